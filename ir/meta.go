package ir

// metaField describes one Meta field for the text format: one table serves
// the printer and the parser.
type metaField struct {
	name string
	ptr  func(*Meta) any // *string, *int64, *float64, *bool or *[]int64
}

var metaFields = []metaField{
	{"architecture", func(m *Meta) any { return &m.Architecture }},
	{"dtype", func(m *Meta) any { return &m.DType }},
	{"vocab_size", func(m *Meta) any { return &m.VocabSize }},
	{"hidden_size", func(m *Meta) any { return &m.HiddenSize }},
	{"intermediate_size", func(m *Meta) any { return &m.IntermediateSize }},
	{"num_layers", func(m *Meta) any { return &m.NumLayers }},
	{"num_heads", func(m *Meta) any { return &m.NumHeads }},
	{"num_kv_heads", func(m *Meta) any { return &m.NumKVHeads }},
	{"head_dim", func(m *Meta) any { return &m.HeadDim }},
	{"max_position_embeddings", func(m *Meta) any { return &m.MaxPositionEmbeddings }},
	{"max_cache_len", func(m *Meta) any { return &m.MaxCacheLen }},
	{"prefill_len", func(m *Meta) any { return &m.PrefillLen }},
	{"rope_theta", func(m *Meta) any { return &m.RopeTheta }},
	{"rms_norm_eps", func(m *Meta) any { return &m.RMSNormEps }},
	{"tie_word_embeddings", func(m *Meta) any { return &m.TieWordEmbeddings }},
	{"rope_scaling", func(m *Meta) any { return &m.RopeScaling }},
	{"eos_token_ids", func(m *Meta) any { return &m.EOSTokenIDs }},
	{"bos_token_id", func(m *Meta) any { return &m.BOSTokenID }},
}
