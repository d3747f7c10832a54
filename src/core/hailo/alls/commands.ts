/**
 * The model script command table: every command known to appear in Hailo's own scripts, its
 * arguments, the values they take and a short explanation for hover and completion.
 *
 * No official reference is public. The table records what Hailo's Model Zoo and example scripts
 * actually use, so it is deliberately tolerant where that evidence is thin: a list of values or
 * keys marked `closed: false` only records what has been seen, and anything else is reported as
 * information, never as an error.
 */

import provenanceData from './provenance.json';

export type CommandCategory = 'model' | 'quantization' | 'compiler';

/**
 * The DFC release the table was last checked against: Hailo Model Zoo v2.18 ships with DFC 3.33.
 * Hints about commands, keywords and values the table does not know name it. Where each entry was
 * seen (file and release) is in provenance.json beside this file.
 */
export const TABLE_DFC_VERSION = '3.33';

/**
 * What a value must look like:
 * - layers: a layer name, a list of names or a `{pattern}`
 * - layer: a single layer name
 * - switch: enabled / disabled / allowed / True / False (Hailo's scripts mix them)
 */
export type ValueKind = 'int' | 'number' | 'bool' | 'switch' | 'enum' | 'layers' | 'layer' | 'numbers' | 'ints' | 'string' | 'names' | 'any';

export interface ParamSpec {
  name: string;
  kind: ValueKind;
  doc: string;
  /** Allowed (closed) or seen (open) values, for enums; also offered by completion. */
  values?: readonly string[];
  /** true: `values` is the complete set; a value outside it is an error when it looks like a typo. */
  closed?: boolean;
  /** Inclusive numeric range; `rangeSure: false` makes an out-of-range value a warning only. */
  min?: number;
  max?: number;
  rangeSure?: boolean;
}

export interface PositionalSpec {
  /** Name used in signatures and hovers. */
  name: string;
  kind: ValueKind;
  doc: string;
  values?: readonly string[];
  closed?: boolean;
  optional?: boolean;
}

/** A sub-command chosen by the first argument, e.g. model_optimization_config(calibration, ...). */
export interface SectionSpec {
  name: string;
  doc: string;
  params: ParamSpec[];
  /** true when every key of the section is known (unknown keys: warning instead of information). */
  closed?: boolean;
}

export interface CommandSpec {
  name: string;
  category: CommandCategory;
  /** Usage line shown in hovers and completion details. */
  signature: string;
  doc: string;
  /**
   * Whether the command creates layers and so takes `names = command(...)`:
   * - required: confirmed by a real DFC parse error without the assignment
   * - expected: always written with one in Hailo's scripts
   * - never: never written with one
   * - optional: both forms are seen
   */
  assignment: 'required' | 'expected' | 'never' | 'optional';
  /** Positional arguments in order; when `variadic`, the last spec repeats. */
  positional: PositionalSpec[];
  variadic?: boolean;
  /**
   * Some commands take the layer first only optionally (`change_output_activation(sigmoid)` and
   * `change_output_activation(conv42, sigmoid)`): with fewer positionals the specs are matched
   * from the end.
   */
  alignEnd?: boolean;
  params: ParamSpec[];
  /** true when the keyword list is complete (unknown keys: warning, or error on a near-typo). */
  closed?: boolean;
  /** Sub-commands selected by the first positional argument. */
  sections?: SectionSpec[];
  /** Can be called on a context object, `context_0.place(...)`. */
  method?: boolean;
  /**
   * Compiler-level commands refer to layers the compiler creates (`conv2_sd0`, `sh_from_...`),
   * which are not in a parsed HN; their layer names are not checked against it.
   */
  compilerNames?: boolean;
}

const POLICY: ParamSpec = {
  name: 'policy',
  kind: 'enum',
  values: ['enabled', 'disabled'],
  closed: false,
  doc: 'Turn the algorithm on (`enabled`) or off (`disabled`).',
};
const LAYERS: ParamSpec = { name: 'layers', kind: 'layers', doc: 'Layers the setting applies to: a name, a list `[a, b]` or a pattern such as `{matmul*}`.' };
const BATCH: ParamSpec = { name: 'batch_size', kind: 'int', min: 1, doc: 'Images per batch.' };
const SWITCH = ['enabled', 'disabled', 'allowed', 'True', 'False'] as const;
const sw = (name: string, doc: string): ParamSpec => ({ name, kind: 'switch', values: SWITCH, doc });
const util = (name: string, what: string): ParamSpec => ({
  name,
  kind: 'number',
  min: 0,
  doc: `Upper bound on ${what} as a fraction (0.8 = 80 %); values a little above 1.0 are seen in generated scripts.`,
});
const int = (name: string, doc: string, min = 0): ParamSpec => ({ name, kind: 'int', min, doc });
const num = (name: string, doc: string): ParamSpec => ({ name, kind: 'number', doc });
const any = (name: string, doc: string): ParamSpec => ({ name, kind: 'any', doc });

export const PRECISION_MODES = ['a8_w8', 'a8_w4', 'a16_w16', 'a16_w8', 'a16_w8_a16'] as const;
export const OUTPUT_ACTIVATIONS = ['sigmoid', 'tanh', 'linear'] as const;

const COMMANDS: CommandSpec[] = [
  // ---------------------------------------------------------------- model modification
  {
    name: 'normalization',
    category: 'model',
    signature: 'name = normalization(mean, std[, input_layer])',
    doc: 'Adds a layer after the input that computes `(x - mean) / std` per channel on the chip, so the host can feed raw pixel values. Give one value per channel, e.g. `[0, 0, 0], [255, 255, 255]` for a model trained on 0..1 inputs. The command creates a layer and must be assigned to a name: a bare `normalization(...)` line makes the DFC fail with a parse error.',
    assignment: 'required',
    positional: [
      { name: 'mean', kind: 'numbers', doc: 'Mean per channel, e.g. `[123.675, 116.28, 103.53]`.' },
      { name: 'std', kind: 'numbers', doc: 'Standard deviation per channel, e.g. `[58.395, 57.12, 57.375]`.' },
      { name: 'input_layer', kind: 'layer', optional: true, doc: 'Input layer to normalise (default: the network input).' },
    ],
    params: [],
    closed: true,
  },
  {
    name: 'input_conversion',
    category: 'model',
    signature: 'name = input_conversion([input_layer,] conversion[, emulator_support=True])',
    doc: 'Converts the input colour format on the chip (for example NV12 camera frames to RGB), so the host sends frames as the camera produces them.',
    assignment: 'expected',
    alignEnd: true,
    positional: [
      { name: 'input_layer', kind: 'layer', optional: true, doc: 'Input layer to convert.' },
      {
        name: 'conversion',
        kind: 'enum',
        values: ['yuv_to_rgb', 'bgr_to_rgb', 'nv12_to_hailo_yuv', 'nv12_to_rgb', 'yuy2_to_hailo_yuv', 'rgbx_to_hailo_rgb', 'tf_rgbx_to_hailo_rgb'],
        closed: false,
        doc: 'The conversion to apply.',
      },
    ],
    params: [sw('emulator_support', 'Also apply the conversion in the emulator, so accuracy runs see the same input as the chip.')],
  },
  {
    name: 'yuv_to_rgb',
    category: 'model',
    signature: 'name = yuv_to_rgb(layer)',
    doc: 'Adds a YUV to RGB colour conversion after a layer.',
    assignment: 'expected',
    positional: [{ name: 'layer', kind: 'layer', doc: 'Layer whose output is converted.' }],
    params: [],
  },
  {
    name: 'resize',
    category: 'model',
    signature: 'name = resize(input_layer, resize_shapes=[H, W])',
    doc: 'Resizes the input on the chip, so the host can feed frames of another size than the model was trained on.',
    assignment: 'expected',
    positional: [{ name: 'input_layer', kind: 'layer', doc: 'Input layer to resize.' }],
    params: [{ name: 'resize_shapes', kind: 'ints', doc: 'Target `[height, width]`.' }, any('engine', 'Where the resize runs.')],
  },
  {
    name: 'resize_input',
    category: 'model',
    signature: 'name = resize_input([H, W], input_layer)',
    doc: 'Older form of `resize`: resizes an input on the chip to `[height, width]`.',
    assignment: 'expected',
    positional: [
      { name: 'shape', kind: 'ints', doc: 'Target `[height, width]`.' },
      { name: 'input_layer', kind: 'layer', doc: 'Input layer to resize.' },
    ],
    params: [],
  },
  {
    name: 'change_output_activation',
    category: 'model',
    signature: 'change_output_activation([layer,] activation)',
    doc: 'Adds or replaces the activation of an output layer; detection heads use it to put the class scores through a `sigmoid` on the chip. Without a layer it applies to every output.',
    assignment: 'never',
    alignEnd: true,
    positional: [
      { name: 'layer', kind: 'layers', optional: true, doc: 'Output layer (default: every output layer).' },
      { name: 'activation', kind: 'enum', values: OUTPUT_ACTIVATIONS, closed: false, doc: 'Activation to apply: `sigmoid`, `tanh` or `linear`.' },
    ],
    params: [],
  },
  {
    name: 'logits_layer',
    category: 'model',
    signature: 'name = logits_layer(layer, softmax, axis, cpu)',
    doc: 'Adds a logits operation (softmax) after a layer, run on the host.',
    assignment: 'expected',
    positional: [
      { name: 'layer', kind: 'layer', doc: 'Layer whose output goes through the operation.' },
      { name: 'operation', kind: 'enum', values: ['softmax', 'argmax'], closed: false, doc: 'The operation.' },
      { name: 'axis', kind: 'int', doc: 'Axis, e.g. `-1`.' },
      { name: 'engine', kind: 'enum', values: ['cpu'], closed: false, doc: 'Where it runs.' },
    ],
    params: [],
  },
  {
    name: 'nms_postprocess',
    category: 'model',
    signature: 'nms_postprocess("config.json", meta_arch=yolov8, engine=cpu)',
    doc: 'Adds detection post-processing (box decoding and non-maximum suppression) to the HEF; HailoRT runs it and `parse-hef` lists it as an operation. The JSON file holds the NMS configuration; its path is relative to the model script.',
    assignment: 'never',
    positional: [
      { name: 'config', kind: 'string', optional: true, doc: 'Path of the NMS configuration JSON, in double quotes.' },
      {
        name: 'meta_arch',
        kind: 'enum',
        optional: true,
        values: ['yolov8', 'yolov5', 'yolox', 'ssd', 'yolov6', 'centernet'],
        closed: false,
        doc: 'Detector family (older scripts give it positionally).',
      },
    ],
    params: [
      {
        name: 'meta_arch',
        kind: 'enum',
        values: ['yolov8', 'yolov5', 'yolox', 'ssd', 'yolov6', 'centernet'],
        closed: false,
        doc: 'Detector family whose outputs are decoded.',
      },
      {
        name: 'engine',
        kind: 'enum',
        values: ['cpu', 'nn', 'nn_core', 'auto'],
        closed: false,
        doc: 'Where the post-processing runs: `cpu` (HailoRT on the host), `nn_core`/`nn` (on the chip) or `auto`.',
      },
      { name: 'bbox_decoding_only', kind: 'bool', values: ['True', 'False'], doc: 'Decode the boxes but skip the NMS.' },
    ],
  },
  {
    name: 'output_layer',
    category: 'model',
    signature: 'name = output_layer(layer, offdevice_layer=...)',
    doc: 'Makes a layer an output of the network.',
    assignment: 'expected',
    positional: [{ name: 'layer', kind: 'layer', doc: 'Layer to expose as an output.' }],
    params: [any('offdevice_layer', 'Layer computed off the device.')],
  },
  {
    name: 'remove_node',
    category: 'model',
    signature: 'remove_node(layer)',
    doc: 'Removes a layer from the network.',
    assignment: 'never',
    positional: [{ name: 'layer', kind: 'layer', doc: 'Layer to remove.' }],
    params: [],
    closed: true,
  },
  {
    name: 'transpose',
    category: 'model',
    signature: 'transpose()',
    doc: 'Transposes the whole network (height and width swap).',
    assignment: 'never',
    positional: [],
    params: [],
    closed: true,
  },
  {
    name: 'set_input_mask_to_softmax',
    category: 'model',
    signature: 'set_input_mask_to_softmax()',
    doc: 'Feeds the attention-mask input to the softmax layers (sentence-embedding transformers such as all-MiniLM).',
    assignment: 'never',
    positional: [],
    params: [],
  },
  {
    name: 'set_seed',
    category: 'model',
    signature: 'set_seed(seed=N)',
    doc: 'Fixes the random seed of the optimization, for reproducible results.',
    assignment: 'never',
    positional: [],
    params: [int('seed', 'The seed.')],
    closed: true,
  },
  {
    name: 'network_group',
    category: 'model',
    signature: 'name = network_group([net, ...])',
    doc: 'Groups networks into one network group (compiled together); generated scripts start their compiler section with `net = network_group([net])`.',
    assignment: 'expected',
    positional: [{ name: 'networks', kind: 'names', doc: 'Network (scope) names.' }],
    params: [],
  },
  {
    name: 'merge',
    category: 'compiler',
    signature: 'name = merge(a, b)',
    doc: 'Merges two layers into one compute unit.',
    assignment: 'expected',
    positional: [{ name: 'layers', kind: 'layer', doc: 'Layers to merge.' }],
    variadic: true,
    params: [],
    compilerNames: true,
  },
  {
    name: 'join',
    category: 'compiler',
    signature: 'join(layer, [a, b], join_type=SHMIFO)',
    doc: 'Joins layers so they share a path on the chip.',
    assignment: 'optional',
    positional: [{ name: 'layers', kind: 'layers', doc: 'Layers to join.' }],
    variadic: true,
    params: [{ name: 'join_type', kind: 'enum', values: ['SHMIFO'], closed: false, doc: 'How the layers are joined.' }],
    compilerNames: true,
  },

  // ---------------------------------------------------------------- quantization
  {
    name: 'model_optimization_flavor',
    category: 'quantization',
    signature: 'model_optimization_flavor(optimization_level=0..4, compression_level=0..5)',
    doc: 'Chooses how hard the optimizer works. `optimization_level` 0 is a plain calibration; 2 adds fine-tuning and is the usual choice for accuracy (needs a GPU and a large calibration set to be quick); 4 is the most thorough. `compression_level` above 0 stores some weights in 4 bit to save memory, at some cost in accuracy.',
    assignment: 'never',
    positional: [],
    params: [
      {
        name: 'optimization_level',
        kind: 'int',
        min: 0,
        max: 4,
        rangeSure: true,
        values: ['0', '1', '2', '3', '4'],
        doc: 'Optimization effort, 0 to 4 (2 is a common choice for accuracy).',
      },
      {
        name: 'compression_level',
        kind: 'int',
        min: 0,
        max: 5,
        rangeSure: false,
        values: ['0', '1', '2', '3', '4', '5'],
        doc: 'Weight compression, 0 (none) upwards; higher levels quantize more weights to 4 bit.',
      },
      BATCH,
    ],
    closed: true,
  },
  {
    name: 'model_optimization_config',
    category: 'quantization',
    signature: 'model_optimization_config(section, key=value, ...)',
    doc: 'Configures one part of the optimizer, named by the first argument: `calibration`, `globals`, `negative_exponent`, `compression_params` or `checker_cfg`.',
    assignment: 'never',
    positional: [{ name: 'section', kind: 'enum', doc: 'Which part of the optimizer to configure.' }],
    params: [],
    sections: [
      {
        name: 'calibration',
        doc: 'The calibration pass that measures activation ranges.',
        params: [BATCH, int('calibset_size', 'Number of calibration images used (at most the size of the calibration set).', 1)],
      },
      {
        name: 'globals',
        doc: 'Settings for the whole optimization.',
        params: [
          { name: 'multiproc_policy', kind: 'enum', values: ['enabled', 'disabled'], closed: false, doc: 'Use several processes for the optimization.' },
          sw('output_16bit', 'Keep the network outputs in 16 bit.'),
          any('output_encoding_vector', 'Output encoding per output.'),
        ],
      },
      {
        name: 'negative_exponent',
        doc: 'Allows layers to use a negative exponent (a finer scale), which transformer models need.',
        params: [LAYERS, int('rank', "Exponent rank; 0 in Hailo's transformer scripts.")],
      },
      {
        name: 'compression_params',
        doc: 'How many weights are stored in 4 bit.',
        params: [num('auto_4bit_weights_ratio', 'Share of weights the optimizer may store in 4 bit (0 to 1).')],
      },
      {
        name: 'checker_cfg',
        doc: 'The layer-by-layer accuracy checker that runs after optimization.',
        params: [
          POLICY,
          BATCH,
          int('dataset_size', 'Images the checker uses.', 1),
          any('analyze_mode', 'How the checker analyses the layers.'),
          { name: 'batch_norm_checker', kind: 'bool', values: ['True', 'False'], doc: 'Also check batch-norm statistics.' },
        ],
      },
    ],
  },
  {
    name: 'quantization_param',
    category: 'quantization',
    signature: 'quantization_param(layers, precision_mode=a16_w16, ...)',
    doc: 'Sets quantization options for layers given by name, list or pattern. The most common use keeps sensitive layers in 16 bit, e.g. `quantization_param({ew_add*}, precision_mode=a16_w16)` for transformer residual adds. A later line for the same layer overrides an earlier one.',
    assignment: 'never',
    positional: [{ name: 'layers', kind: 'layers', doc: 'A layer, a list `[a, b]` or a pattern `{conv*}`.' }],
    params: [
      {
        name: 'precision_mode',
        kind: 'enum',
        values: PRECISION_MODES,
        closed: true,
        doc: 'Activation and weight bit widths: `a8_w8` (default), `a8_w4`, `a16_w16`, `a16_w8`, `a16_w8_a16`.',
      },
      {
        name: 'bias_mode',
        kind: 'enum',
        values: ['double_scale_initialization', 'single_scale_decomposition'],
        closed: false,
        doc: 'How biases are quantized.',
      },
      { name: 'force_range_in', kind: 'numbers', doc: 'Fix the input range `[low, high]` instead of measuring it.' },
      { name: 'force_range_out', kind: 'numbers', doc: 'Fix the output range `[low, high]` instead of measuring it.' },
      int('force_range_index', 'Which input the forced range applies to.'),
      int('max_elementwise_feed_repeat', 'Limit on how often an element-wise input is repeated.', 1),
      int('weight_group_size', 'Weights per quantization group.', 1),
      { name: 'activation_fit', kind: 'enum', values: ['enabled', 'disabled'], closed: false, doc: 'Fit the activation function for better precision.' },
      {
        name: 'activation_clipping_mode',
        kind: 'enum',
        values: ['manual', 'percentile'],
        closed: false,
        doc: 'Older form of `pre_quantization_optimization(activation_clipping, mode=...)`.',
      },
      { name: 'activation_clipping_values', kind: 'numbers', doc: 'Older form of `clipping_values`: `[low, high]`.' },
    ],
    closed: false,
  },
  {
    name: 'pre_quantization_optimization',
    category: 'quantization',
    signature: 'pre_quantization_optimization(algorithm, key=value, ...)',
    doc: 'Configures an algorithm that runs before quantization, named by the first argument (`equalization`, `ew_add_fusing`, `matmul_correction`, `activation_clipping`, ...).',
    assignment: 'never',
    positional: [{ name: 'algorithm', kind: 'enum', doc: 'The algorithm to configure.' }],
    params: [],
    sections: [
      {
        name: 'activation_clipping',
        doc: 'Clips activation ranges before quantization.',
        params: [
          LAYERS,
          { name: 'mode', kind: 'enum', values: ['percentile', 'manual'], closed: false, doc: 'How the clipping range is chosen.' },
          { name: 'clipping_values', kind: 'numbers', doc: '`[low, high]`: percentiles or absolute values, by `mode`.' },
          { name: 'recollect_stats', kind: 'bool', values: ['True', 'False'], doc: 'Measure statistics again after clipping.' },
        ],
      },
      {
        name: 'weights_clipping',
        doc: 'Clips weight ranges before quantization.',
        params: [
          LAYERS,
          { name: 'mode', kind: 'enum', values: ['manual', 'percentile'], closed: false, doc: 'How the clipping range is chosen.' },
          { name: 'clipping_values', kind: 'numbers', doc: '`[low, high]`.' },
        ],
      },
      {
        name: 'equalization',
        doc: 'Balances ranges between consecutive layers so both quantize well.',
        params: [POLICY, LAYERS, any('equalization_target', 'What to equalize, e.g. `activation`.'), any('mode', 'Older scripts: `kernel_equalization`.')],
      },
      {
        name: 'ew_add_fusing',
        doc: 'Fuses element-wise adds into the preceding layer; transformer scripts turn it off.',
        params: [POLICY, any('infusible_ew_add_type', 'How adds that cannot be fused are handled.')],
      },
      {
        name: 'matmul_correction',
        doc: 'Corrects the zero point of matrix multiplications (attention).',
        params: [
          LAYERS,
          { name: 'correction_type', kind: 'enum', values: ['zp_comp_block', 'zp_comp_block_3'], closed: false, doc: 'The correction applied.' },
        ],
      },
      {
        name: 'matmul_equalization',
        doc: 'Equalizes the inputs of matrix multiplications.',
        params: [LAYERS, POLICY, sw('matmul_bias', 'Also equalize the bias.')],
      },
      {
        name: 'layer_norm_decomposition',
        doc: 'How layer normalization is decomposed for the chip; Whisper decoders use uniform precision.',
        params: [
          {
            name: 'bit_decomposition_mode',
            kind: 'enum',
            values: ['uniform_precision', 'split_precision'],
            closed: false,
            doc: 'Precision of the decomposed parts.',
          },
          sw('equalization', 'Equalize the decomposed parts.'),
          { name: 'eq_consumer', kind: 'bool', values: ['True', 'False'], doc: 'Equalize the consumer layer.' },
          LAYERS,
        ],
      },
      { name: 'global_avgpool_reduction', doc: 'Splits a large global average pooling.', params: [LAYERS, any('division_factors', 'Division factors.')] },
      {
        name: 'se_optimization',
        doc: 'Optimizes squeeze-and-excitation blocks.',
        params: [
          any('method', 'Method, e.g. `tse`.'),
          any('mode', 'Mode, e.g. `sequential`.'),
          int('count', 'How many blocks.'),
          int('tile_height', 'Tile height.', 1),
          LAYERS,
        ],
      },
      { name: 'decompose_conv_factor', doc: 'Decomposes convolutions by a factor.', params: [LAYERS] },
      { name: 'layer_decomposition', doc: 'Decomposes layers.', params: [LAYERS, POLICY] },
    ],
  },
  {
    name: 'post_quantization_optimization',
    category: 'quantization',
    signature: 'post_quantization_optimization(algorithm, key=value, ...)',
    doc: 'Configures an algorithm that runs after quantization, named by the first argument: `finetune` (quantization-aware fine-tuning, needs a GPU to be quick), `bias_correction` or `adaround`.',
    assignment: 'never',
    positional: [{ name: 'algorithm', kind: 'enum', doc: 'The algorithm to configure.' }],
    params: [],
    sections: [
      {
        name: 'finetune',
        doc: 'Quantization-aware fine-tuning against the float model (knowledge distillation).',
        params: [
          POLICY,
          num('learning_rate', 'Learning rate, e.g. `0.0001` or `1e-5`.'),
          int('epochs', 'Training epochs.', 1),
          int('dataset_size', 'Images used for training.', 1),
          BATCH,
          int('warmup_epochs', 'Warm-up epochs.'),
          { name: 'loss_layer_names', kind: 'layers', doc: 'Layers whose outputs the loss compares.' },
          { name: 'loss_types', kind: 'names', values: ['l2', 'l2rel', 'ce', 'l2rel_channelwise_weighted'], doc: 'Loss per loss layer.' },
          { name: 'loss_factors', kind: 'numbers', doc: 'Weight per loss layer.' },
          any('meta_arch', 'Detector family, for task-specific losses.'),
          { name: 'def_loss_type', kind: 'enum', values: ['l2', 'l2rel', 'ce'], closed: false, doc: 'Default loss type.' },
        ],
      },
      { name: 'bias_correction', doc: 'Corrects the bias shift that quantization introduces.', params: [POLICY, LAYERS] },
      {
        name: 'adaround',
        doc: 'Adaptive rounding of weights (slow; more accurate at low bit widths).',
        params: [POLICY, LAYERS, int('epochs', 'Epochs.', 1), int('dataset_size', 'Images used.', 1), BATCH],
      },
    ],
  },

  // ---------------------------------------------------------------- compiler
  {
    name: 'performance_param',
    category: 'compiler',
    signature: 'performance_param(compiler_optimization_level=max, ...)',
    doc: "Sets the compiler's performance goals. `compiler_optimization_level=max` searches longer for a faster HEF (the DFC suggests it in its log); `optimize_for_batch` tunes for a batch size; `fps` sets a frame-rate target.",
    assignment: 'never',
    positional: [],
    params: [
      {
        name: 'compiler_optimization_level',
        kind: 'enum',
        values: ['0', '1', 'max'],
        closed: true,
        doc: 'Compiler effort: `0`, `1` (default) or `max` (longer compile, faster HEF).',
      },
      int('optimize_for_batch', 'Batch size to optimize for.', 1),
      { name: 'optimize_for_power', kind: 'bool', values: ['True', 'False'], doc: 'Prefer lower power over speed.' },
      num('fps', 'Frame-rate target.'),
      { name: 'optimization_level', kind: 'enum', values: ['0', '1', 'max'], closed: false, doc: 'Older name of `compiler_optimization_level`.' },
    ],
    closed: false,
  },
  {
    name: 'resources_param',
    category: 'compiler',
    signature: 'resources_param(max_utilization=0.8, ...)',
    doc: "Caps how much of the chip's resources the compiler may use per context. Lower caps leave slack that helps the allocator succeed; the compile log echoes them as percentages.",
    assignment: 'never',
    positional: [],
    params: [
      util('max_utilization', 'all resources'),
      util('max_compute_utilization', 'compute (clusters)'),
      util('max_control_utilization', 'control resources'),
      util('max_memory_utilization', 'memory'),
      util('max_compute_16bit_utilization', '16-bit compute'),
      util('max_input_aligner_utilization', 'input aligners'),
      util('max_apu_utilization', 'activation units'),
      { name: 'strategy', kind: 'enum', values: ['greedy'], closed: false, doc: 'Allocation strategy.' },
    ],
    closed: false,
  },
  {
    name: 'context_switch_param',
    category: 'compiler',
    signature: 'context_switch_param(mode=enabled, ...)',
    doc: 'Controls multi-context compilation: with `mode=enabled` a network too large for the chip is split into contexts that are swapped in turn (slower than single-context but it fits).',
    assignment: 'never',
    positional: [],
    params: [
      {
        name: 'mode',
        kind: 'enum',
        values: ['enabled', 'disabled', 'allowed', 'manual'],
        closed: false,
        doc: 'Allow (`enabled`/`allowed`) or forbid (`disabled`) several contexts; `manual` in older generated scripts that place contexts themselves.',
      },
      int('slotter_chances', 'Attempts of the context slotter.'),
      any('toposort_mode', 'Ordering of layers into contexts, e.g. `pushdown`.'),
      util('goal_network_compute_utilization', 'compute per context (goal)'),
      util('goal_network_control_utilization', 'control per context (goal)'),
      util('goal_network_memory_utilization', 'memory per context (goal)'),
      util('goal_network_weights_utilization', 'weights per context (goal)'),
      util('max_utilization', 'all resources per context'),
      util('max_compute_utilization', 'compute per context'),
      util('max_control_utilization', 'control per context'),
      util('max_memory_utilization', 'memory per context'),
      any('share_buckets_partition', 'Share bucket partitions.'),
      any('auto_partition_to_buckets', 'Partition into buckets automatically.'),
      any('berkitizer_min_size', 'Minimum partition size.'),
      any('berkitizer_bucket_size', 'Partition bucket size.'),
      sw('allow_auto_merge_in_multicontext', 'Merge layers automatically in multi-context networks.'),
      num('buckets_equality_threshold', 'How equal bucket partitions must be.'),
    ],
    closed: false,
  },
  {
    name: 'allocator_param',
    category: 'compiler',
    signature: 'allocator_param(key=value, ...)',
    doc: 'Low-level allocator settings (timeouts, automatic reshapes, defuse, buffers). Generated scripts list 40 and more keys; hand-written scripts usually set one or two.',
    assignment: 'never',
    positional: [],
    params: [
      int('timeout', 'Allocator timeout: seconds, or a duration such as `30m` or `2h`.'),
      int('cluster_timeout', 'Per-cluster timeout: seconds, or a duration.'),
      int('splitter_timeout', 'Splitter timeout in seconds.'),
      sw('automatic_ddr', 'Move buffers to DDR automatically.'),
      sw('automatic_reshapes', 'Insert reshapes automatically.'),
      sw('enable_partial_row_buffers', 'Use partial-row buffers; transformer scripts disable them.'),
      sw('width_splitter_defuse', 'Split wide layers.'),
      num('merge_min_layer_utilization', 'Minimum utilization for merging layers.'),
      sw('enable_auto_spatial_reshapes', 'Insert spatial reshapes automatically.'),
      sw('enable_auto_spatial_collapse', 'Collapse spatial reshapes automatically.'),
      int('max_auto_defuse', 'Maximum automatic defuse.'),
      int('seed', 'Allocator random seed.'),
      any('strategy', 'Allocation strategy.'),
      sw('enable_hw_padding', 'Use hardware padding.'),
      int('automatic_ddr_l3_cuts_threshold', 'L3 cuts above which DDR is used automatically.'),
      sw('automatic_l4_portals', 'Insert L4 portals automatically.'),
      int('automatic_l4_portals_l3_cuts_threshold', 'L3 cuts above which L4 portals are used.'),
      sw('defuse_by_validator', 'Let the validator defuse layers.'),
      { name: 'enable_axis_upsize', kind: 'switch', values: [...SWITCH, 'bottleneck_fps'], doc: 'Allow axis upsizing.' },
      sw('enable_collapser', 'Collapse layers.'),
      sw('enable_defuse_with_slack', 'Defuse when there is slack.'),
      { name: 'enable_fixer', kind: 'switch', values: [...SWITCH, 'max_adjcents'], doc: 'Run the allocation fixer (`max_adjcents` in transformer scripts).' },
      sw('enable_swapper', 'Run the swapper.'),
      int('max_auto_merge_depth', 'Maximum automatic merge depth.'),
      sw('validate', 'Validate the allocation.'),
      sw('enable_post_split_average_buffers', 'Average buffers after splits.'),
      sw('auto_split_const_inputs', 'Split constant inputs automatically.'),
      sw('automatic_resize_reshapes', 'Insert resize reshapes automatically.'),
      sw('calculate_power', 'Estimate power.'),
      sw('enable_automatic_offdevice_outputs', 'Move outputs off the device automatically.'),
      sw('enable_lanes', 'Use compute lanes.'),
      sw('enable_lcu_ecc', 'Error correction in LCUs.'),
      sw('enable_muxer', 'Use the muxer.'),
      int('ppu_reshape_slack', 'PPU reshape slack.'),
      sw('optimize_pipeline_stoppage', 'Optimize pipeline stoppage.'),
      sw('disable_row_per_cut', 'Do not use row-per-cut output buffers.'),
      sw('enable_input_phases', 'Split inputs into phases (older generated scripts).'),
      num('network_fps', 'Frame-rate target of the allocation (older generated scripts).'),
      num('max_lcu_utilization', 'Upper bound on LCU utilization.'),
      num('merge_max_layer_utilization', 'Maximum utilization of a merged layer.'),
      sw('force_map_on_mirror', 'Force mapping on the mirrored cluster layout.'),
      int('input_layer_max_successors', 'Successors an input layer may feed directly.'),
      sw('enable_automatic_features_chunks', 'Split features into chunks automatically.'),
      sw('enable_automatic_join', 'Join layers automatically.'),
      sw('enable_single_buffer_for_feasibility', 'Use a single buffer in the feasibility check.'),
      num('fps_ratio_impact', 'Weight of the frame-rate ratio in allocation decisions.'),
      sw('run_format_fixer', 'Run the format fixer.'),
      sw('spatial_defuse_legacy', 'Use the older spatial defuse.'),
    ],
    closed: false,
  },
  {
    name: 'compilation_param',
    category: 'compiler',
    signature: 'compilation_param(layer, key=value, ...)',
    doc: 'Per-layer compiler settings (sub-clusters, 16x4 mode, buffers). Mostly written by the compiler into its generated script; hand-written scripts use it sparingly. Called on a context (`context_0.compilation_param(fps=330.0)`) it applies to that context.',
    assignment: 'never',
    method: true,
    positional: [{ name: 'layers', kind: 'layers', optional: true, doc: 'A layer, a list or a pattern (`{*}`).' }],
    params: [
      any('resources_allocation_strategy', 'e.g. `manual_scs_selection`.'),
      int('number_of_subclusters', 'Sub-clusters for the layer (0 in generated scripts for layers without compute).'),
      { name: 'no_contexts', kind: 'switch', values: [...SWITCH, 'true'], doc: 'Context placement (older scripts write `true`).' },
      sw('balance_output_multisplit', 'Balance output splits.'),
      sw('use_16x4_sc', 'Use 16x4 sub-clusters.'),
      int('number_of_input_aligners', 'Input aligners.'),
      int('number_of_apus', 'Activation units.'),
      int('number_of_lanes', 'Compute lanes (older generated scripts).'),
      sw('mixed_mem', 'Mixed memory.'),
      any('defuse_spatial_w', 'Spatial defuse along width.'),
      int('defuse_num_layers', 'Defuse count.'),
      any('buffer_in_l4', 'Place the buffer in L4.'),
      {
        name: 'layer_output_buffers_format',
        kind: 'enum',
        values: ['consecutive', 'row_per_cut', 'automatic'],
        closed: false,
        doc: 'Layout of the output buffers.',
      },
      sw('parallel_activation', 'Parallel activation.'),
      sw('enable_ew_add_optimization', 'Element-wise add optimization.'),
      sw('compress_l3_weights', 'Compress L3 weights.'),
      sw('resize_bilinear_streaming', 'Streaming bilinear resize.'),
      { name: 'hw_layer_type_list', kind: 'names', doc: 'Hardware units allowed, e.g. `[lcu]`.' },
      num('fps', 'Frame-rate target for the layer.'),
    ],
    closed: false,
    compilerNames: true,
  },
  {
    name: 'defuse',
    category: 'compiler',
    signature: 'parts..., collector = defuse(layer, N[, defuse_type=SPATIAL])',
    doc: 'Splits a layer into N parts plus a collector, so each part fits a compute unit. The names on the left receive the parts (e.g. `conv1_sd0, conv1_sd1, conv1_sdc`).',
    assignment: 'expected',
    positional: [
      { name: 'layer', kind: 'layer', doc: 'Layer to split.' },
      { name: 'count', kind: 'int', doc: 'Number of parts.' },
    ],
    params: [
      {
        name: 'defuse_type',
        kind: 'enum',
        values: ['SPATIAL', 'NMS', 'SUPER_DECONV', 'SPATIAL_RESHAPE', 'INPUT_FEATURES', 'COMPUTE_LANES', 'SUPER_DW', 'EW_MULT_ON_MAC', 'DECONV'],
        closed: false,
        doc: 'How the layer is split.',
      },
      { name: 'splitter', kind: 'bool', values: ['True', 'False'], doc: 'Add a width splitter (`_ws`) in front of the parts.' },
      { name: 'axis', kind: 'enum', values: ['FEATURES'], closed: false, doc: 'Axis of a COMPUTE_LANES split.' },
    ],
    compilerNames: true,
  },
  {
    name: 'defuse_block',
    category: 'compiler',
    signature: '{} = defuse_block(layers..., defuse_count=N)',
    doc: 'Splits a block of layers (an attention block) into parallel copies.',
    assignment: 'expected',
    positional: [{ name: 'layers', kind: 'layer', doc: 'Layers of the block.' }],
    variadic: true,
    params: [int('defuse_count', 'Number of copies.', 1)],
    compilerNames: true,
  },
  {
    name: 'shortcut',
    category: 'compiler',
    signature: 'name = shortcut(source, [destinations])',
    doc: "Routes a layer's output to other layers through a dedicated shortcut.",
    assignment: 'expected',
    positional: [
      { name: 'source', kind: 'layer', doc: 'Producing layer.' },
      { name: 'destinations', kind: 'layers', doc: 'Consuming layers.' },
    ],
    params: [],
    compilerNames: true,
  },
  {
    name: 'concat',
    category: 'compiler',
    signature: 'name = concat([sources], destination)',
    doc: 'Inserts a concatenation that re-joins the parts of a split layer.',
    assignment: 'expected',
    positional: [
      { name: 'sources', kind: 'layers', doc: 'Parts to join.' },
      { name: 'destination', kind: 'layer', doc: 'Collector layer.' },
    ],
    params: [],
    compilerNames: true,
  },
  {
    name: 'l4_portal',
    category: 'compiler',
    signature: 'name = l4_portal(source, destination)',
    doc: 'Connects two layers through a portal in L4 memory.',
    assignment: 'expected',
    positional: [{ name: 'layers', kind: 'layer', doc: 'Source and destination layers.' }],
    variadic: true,
    params: [],
    compilerNames: true,
  },
  {
    name: 'portal',
    category: 'compiler',
    signature: 'name = portal(a, b)',
    doc: 'Connects two layers through a portal.',
    assignment: 'optional',
    positional: [{ name: 'layers', kind: 'layer', doc: 'Layers to connect.' }],
    variadic: true,
    params: [],
    compilerNames: true,
  },
  {
    name: 'mux_demux',
    category: 'compiler',
    signature: 'names = mux_demux(...)',
    doc: 'Inserts a multiplexer/demultiplexer pair so several paths share one.',
    assignment: 'optional',
    positional: [{ name: 'layers', kind: 'layers', doc: 'Layers involved.' }],
    variadic: true,
    params: [],
    compilerNames: true,
  },
  {
    name: 'shape_splitter',
    category: 'compiler',
    signature: 'name = shape_splitter(SPLIT_FEATURES, source, [destinations])',
    doc: "Splits a layer's output by shape (for example by features) among other layers.",
    assignment: 'expected',
    positional: [
      { name: 'mode', kind: 'enum', values: ['SPLIT_FEATURES', 'SPLIT_WIDTH'], closed: false, doc: 'How to split.' },
      { name: 'source', kind: 'layer', doc: 'Layer to split.' },
      { name: 'destinations', kind: 'layers', doc: 'Receiving layers.' },
    ],
    params: [],
    compilerNames: true,
  },
  {
    name: 'feature_splitter',
    category: 'compiler',
    signature: 'name = feature_splitter(source, [destinations])',
    doc: "Older form of `shape_splitter(SPLIT_FEATURES, ...)`: splits a layer's output by features among other layers.",
    assignment: 'expected',
    positional: [
      { name: 'source', kind: 'layer', doc: 'Layer to split.' },
      { name: 'destinations', kind: 'layers', doc: 'Receiving layers.' },
    ],
    params: [],
    compilerNames: true,
  },
  {
    name: 'transpose_concat',
    category: 'compiler',
    signature: 'names = transpose_concat(concat_layer)',
    doc: 'Executes a concatenation in transposed layout.',
    assignment: 'expected',
    positional: [{ name: 'layer', kind: 'layer', doc: 'The concat layer.' }],
    params: [],
    compilerNames: true,
  },
  {
    name: 'buffers',
    category: 'compiler',
    signature: 'buffers(source, destination, N[, M], FULL_ROW|PARTIAL_ROW)',
    doc: 'Sets the buffer between two layers: its depth in rows and its kind.',
    assignment: 'never',
    positional: [
      { name: 'source', kind: 'layer', doc: 'Producing layer.' },
      { name: 'destination', kind: 'layer', doc: 'Consuming layer.' },
      { name: 'rows', kind: 'any', doc: 'Buffer depth, then optionally a second depth and the kind `FULL_ROW` or `PARTIAL_ROW`.' },
    ],
    variadic: true,
    params: [],
    compilerNames: true,
  },
  {
    name: 'context',
    category: 'compiler',
    signature: 'context_0 = context([layers])',
    doc: 'Places layers in one context of a multi-context network; the name is used with `.place(...)`.',
    assignment: 'expected',
    positional: [{ name: 'layers', kind: 'layers', doc: 'Layers of the context.' }],
    params: [],
    compilerNames: true,
  },
  {
    name: 'place',
    category: 'compiler',
    signature: 'context_0.place(cluster, [layers])',
    doc: 'Places layers on a cluster (manual placement), optionally within a context.',
    assignment: 'never',
    method: true,
    positional: [
      { name: 'cluster', kind: 'int', doc: 'Cluster index.' },
      { name: 'layers', kind: 'layers', doc: 'Layers to place.' },
    ],
    params: [],
    compilerNames: true,
  },
  {
    name: 'bucket',
    category: 'compiler',
    signature: 'name = bucket([layers])',
    doc: 'Groups layers into a bucket for context partitioning.',
    assignment: 'optional',
    positional: [{ name: 'layers', kind: 'layers', doc: 'Layers of the bucket.' }],
    variadic: true,
    params: [],
    compilerNames: true,
  },
  {
    name: 'ddr',
    category: 'compiler',
    signature: 'name = ddr(source, destination)',
    doc: 'Passes data between two layers through DDR memory.',
    assignment: 'optional',
    positional: [{ name: 'layers', kind: 'layers', doc: 'Layers involved.' }],
    variadic: true,
    params: [],
    compilerNames: true,
  },
  {
    name: 'format_conversion',
    category: 'compiler',
    signature: 'name = format_conversion(source, destination, conversion, ...)',
    doc: 'Inserts a layout conversion (reshape, transpose) between layers; generated scripts use it around attention and at the inputs and outputs.',
    assignment: 'expected',
    positional: [
      {
        name: 'arguments',
        kind: 'any',
        doc: 'Source and destination layers, the conversion (`spatial_reshape`, `transpose_matmul`, `tf_rgb_to_hailo_rgb`, ...) and its sizes.',
      },
    ],
    variadic: true,
    params: [
      { name: 'collapse', kind: 'bool', values: ['True', 'False'], doc: 'Collapse the conversion into a neighbour.' },
      { name: 'input_windows', kind: 'ints', doc: 'Input windows.' },
      { name: 'output_windows', kind: 'ints', doc: 'Output windows.' },
    ],
    compilerNames: true,
  },
  {
    name: 'hef_param',
    category: 'compiler',
    signature: 'hef_param(key=value, ...)',
    doc: 'Options of the generated HEF, e.g. `share_config=enabled`, `dma_engine_count=2`.',
    assignment: 'never',
    positional: [],
    params: [
      sw('share_config', 'Share configuration between contexts.'),
      int('dma_engine_count', 'DMA engines.', 1),
      int('cfg_channel_count', 'Configuration channels.', 1),
      sw('enable_csm_crc', 'CRC on the configuration stream.'),
      sw('enable_ko', 'Enable KO.'),
      sw('enable_lcu_from_sequencer', 'Drive LCUs from the sequencer.'),
      sw('enable_self_reset_optimization', 'Self-reset optimization.'),
      sw('strict_runtime_versioning', 'Require a matching runtime version.'),
    ],
  },
  {
    name: 'platform_param',
    category: 'compiler',
    signature: 'platform_param(hef_version=5)',
    doc: 'Platform options, e.g. the HEF format version.',
    assignment: 'never',
    positional: [],
    params: [int('hef_version', 'HEF format version.', 0)],
  },
  {
    name: 'buffer_calc_param',
    category: 'compiler',
    signature: 'buffer_calc_param(key=value, ...)',
    doc: 'Options of the buffer size calculation.',
    assignment: 'never',
    positional: [],
    params: [
      num('buffer_calc_fps', 'Frame rate the buffers are sized for.'),
      sw('optimize_buffers', 'Optimize buffer sizes.'),
      sw('split_aware_optimize_buffers', 'Take splits into account.'),
      sw('save_latency_timeline', 'Save the latency timeline.'),
    ],
  },
  {
    name: 'spatial_reshape_flow_params',
    category: 'compiler',
    signature: 'spatial_reshape_flow_params(key=value, ...)',
    doc: 'Options of automatic spatial reshapes.',
    assignment: 'never',
    positional: [],
    params: [num('buffer_size_factor', 'Buffer size factor.')],
  },
];

export const COMMAND_TABLE: ReadonlyMap<string, CommandSpec> = new Map(COMMANDS.map((c) => [c.name, c]));

export function commandSpec(name: string): CommandSpec | undefined {
  return COMMAND_TABLE.get(name);
}

export function allCommands(): readonly CommandSpec[] {
  return COMMANDS;
}

export interface Provenance {
  /** Repository and path of the first real script seen using the entry (or the survey it comes from). */
  file: string;
  /** Release tag or commit of that script. */
  release: string;
}

const PROVENANCE: Readonly<Record<string, Provenance>> = provenanceData.entries;

/**
 * Where a table entry was seen. Keys: `cmd`, `cmd.keyword`, `cmd(section)`, `cmd(section).keyword`
 * (provenance.json, regenerated by scripts/alls-provenance.ts).
 */
export function provenanceOf(key: string): Provenance | undefined {
  return PROVENANCE[key];
}

/** Every key of the table, in the form provenanceOf takes. */
export function tableKeys(): string[] {
  const keys: string[] = [];
  for (const c of COMMANDS) {
    keys.push(c.name);
    for (const p of c.params) keys.push(`${c.name}.${p.name}`);
    for (const s of c.sections ?? []) {
      keys.push(`${c.name}(${s.name})`);
      for (const p of s.params) keys.push(`${c.name}(${s.name}).${p.name}`);
    }
  }
  return keys;
}

const seenLine = (key: string): string => {
  const p = PROVENANCE[key];
  return p ? `*Seen in ${p.file} (${p.release}).*` : '';
};

/** The keyword parameters that apply to a statement of this command (and section, when any). */
export function paramsFor(cmd: CommandSpec, section: string | undefined): { params: ParamSpec[]; closed: boolean; section?: SectionSpec } {
  if (cmd.sections) {
    const s = section === undefined ? undefined : cmd.sections.find((x) => x.name === section);
    if (!s) return { params: cmd.params, closed: false };
    return { params: [...s.params, ...cmd.params], closed: s.closed ?? false, section: s };
  }
  return { params: cmd.params, closed: cmd.closed ?? false };
}

/** The positional spec that an argument at `index` of `count` positionals fills. */
export function positionalFor(cmd: CommandSpec, index: number, count: number): PositionalSpec | undefined {
  const specs = cmd.positional;
  if (!specs.length) return undefined;
  if (cmd.alignEnd && count < specs.length) {
    const shift = specs.length - count;
    return specs[index + shift];
  }
  if (index < specs.length) return specs[index];
  return cmd.variadic ? specs[specs.length - 1] : undefined;
}

/** Markdown documentation of a command, for hovers and completion items. */
export function commandMarkdown(cmd: CommandSpec): string {
  const lines = ['```alls', cmd.signature, '```', '', cmd.doc];
  // the list, unless the doc already names every section
  if (cmd.sections && !cmd.sections.every((s) => cmd.doc.includes(`\`${s.name}\``)))
    lines.push('', `First argument: ${cmd.sections.map((s) => `\`${s.name}\``).join(', ')}.`);
  const params = cmd.params.map((p) => `\`${p.name}\``);
  if (params.length) lines.push('', `Keywords: ${params.join(', ')}${cmd.closed ? '.' : ' (and others seen less often).'}`);
  const assign: Record<CommandSpec['assignment'], string> = {
    required: 'Creates layers: must be assigned (`name = ...`).',
    expected: 'Creates layers: written with an assignment (`name = ...`).',
    never: '',
    optional: '',
  };
  if (assign[cmd.assignment]) lines.push('', assign[cmd.assignment]);
  lines.push('', `*${cmd.category === 'model' ? 'Model modification' : cmd.category === 'quantization' ? 'Quantization' : 'Compiler'} command.*`);
  if (seenLine(cmd.name)) lines.push('', seenLine(cmd.name));
  return lines.join('\n');
}

export function paramMarkdown(cmd: CommandSpec, p: ParamSpec): string {
  const lines = [`\`${cmd.name}(..., ${p.name}=...)\``, '', p.doc];
  if (p.values?.length) lines.push('', `${p.closed ? 'Values' : 'Values seen'}: ${p.values.map((v) => `\`${v}\``).join(', ')}.`);
  if (p.min !== undefined && p.max !== undefined) lines.push('', `Range: ${p.min} to ${p.max}${p.rangeSure === false ? ' (upper bound not certain)' : ''}.`);
  const seen = seenLine(`${cmd.name}.${p.name}`);
  if (seen) lines.push('', seen);
  return lines.join('\n');
}

export function sectionMarkdown(cmd: CommandSpec, s: SectionSpec): string {
  const lines = [`\`${cmd.name}(${s.name}, ...)\``, '', s.doc];
  if (s.params.length) lines.push('', `Keywords: ${s.params.map((p) => `\`${p.name}\``).join(', ')}.`);
  return lines.join('\n');
}
