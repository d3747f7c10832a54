/**
 * What to do about a DFC error class, in a sentence, with the lint rule that explains the same
 * cause (its page in the shipped rule docs). Facts: reference dfc-cli.md error catalogue and
 * onnx-support.md §4, the same the lint rules use.
 */
export interface DfcAdvice {
  advice: string;
  /** The lint rule about the same cause, when there is one. */
  rule?: string;
}

const ADVICE: Record<string, DfcAdvice> = {
  UnsupportedShuffleLayerError: {
    advice:
      'A Reshape/Transpose/Flatten the parser cannot map: keep layouts that need no reshape ([1, C, 1, T] with (1, k) convolutions), or the plain head split/merge of eager attention.',
    rule: 'HW014',
  },
  UnsupportedOperationError: {
    advice: 'An operator with no Hailo layer: end the graph before it (endNodes in hailo.json) and run it on the host, or replace it.',
    rule: 'HW004',
  },
  UnsupportedGatherLayerError: {
    advice: 'A Gather with computed indices: do the lookup on the host and feed its result as the input, or use constant indices (slicing).',
    rule: 'HW018',
  },
  UnsupportedSliceLayerError: { advice: 'A gather/slice on the batch axis: split on a non-batch axis instead (torch.chunk on the channels).', rule: 'HW018' },
  UnsupportedReduceMaxLayerError: {
    advice: 'Reduce max only works on the channel axis with keepdim=True: reduce over channels, or on the host.',
    rule: 'HW016',
  },
  UnsupportedActivationLayerError: {
    advice: 'An activation Hailo does not have (often an Erf outside a GELU): use nn.GELU() or another supported activation.',
    rule: 'HW017',
  },
  UnsupportedLSTMLayerError: { advice: 'Recurrent layers do not parse: replace the recurrence with convolutions or run it on the host.', rule: 'HW004' },
  UnsupportedModelError: {
    advice:
      'The parser could not build a layer here (a shape it does not support, a broadcast, a 1-D form): check the findings of the lint on the nodes it names.',
  },
  ParsingWithRecommendationException: {
    advice: 'The parser suggests end nodes before the unsupported part: use the quick fix on the recommendation, then parse again; the rest runs on the host.',
  },
  BackendScriptParserException: {
    advice: 'A line of the .alls model script does not parse: the diagnostic on the .alls shows the column; Explain on it gives the rule.',
  },
  BackendAllocatorException: {
    advice:
      'The compiler could not fit the model: look at the memory estimate (HW030) and a layer too large for a context (HW022); compress weights or split the layer.',
    rule: 'HW030',
  },
  MappingFailed: {
    advice: 'The compiler could not map the model to the chip: see the memory estimate (HW030) and single large layers (HW022).',
    rule: 'HW030',
  },
  MisspellNodeError: {
    advice: 'A start or end node name is not in the model: hailo-workbench validate checks startNodes/endNodes against the ONNX.',
    rule: 'HW021',
  },
};

export function dfcAdvice(errorClass: string | undefined): DfcAdvice | undefined {
  return errorClass ? ADVICE[errorClass] : undefined;
}
