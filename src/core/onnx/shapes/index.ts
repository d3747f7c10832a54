import type { ShapeRule, ShapeRules } from './context';
import { CONV_RULES } from './conv';
import { ELEMENTWISE_RULES } from './elementwise';
import { GENERATOR_RULES } from './generators';
import { INDEXING_RULES } from './indexing';
import { LAYOUT_RULES } from './layout';
import { LINEAR_RULES } from './linear';
import { REDUCE_RULES } from './reduce';

/**
 * The ai.onnx shape functions, one table per op family. A new op is one entry in its family's
 * file (its fewest inputs and its shape function); an op in no table is reported as not inferred.
 */
const FAMILIES: ShapeRules[] = [ELEMENTWISE_RULES, REDUCE_RULES, CONV_RULES, LINEAR_RULES, LAYOUT_RULES, INDEXING_RULES, GENERATOR_RULES];

export const SHAPE_RULES: ReadonlyMap<string, ShapeRule> = new Map(FAMILIES.flatMap((f) => Object.entries(f)));
