// Generates tests/golden/tokenizer_vectors.json: small tokenizer.json files, one per component or option,
// with the ids (with and without special tokens) and decoded text that the Hugging Face library
// (@anush008/tokenizers 0.6.0) gives for a few strings. tests/test_tokenizer.cpp replays them.
//   node tests/golden/make_tokenizer_vectors.mjs > tests/golden/tokenizer_vectors.json
import { Tokenizer } from '@anush008/tokenizers';

// A vocab over every character of the sample texts (plus byte tokens and merges for a few pairs), so each
// case exercises its component rather than unknown-character handling.
const texts = [
  "Hello world! It's 2024, isn't it?  Tabs\tand\nnew lines\r\n",
  "  leading and trailing  ",
  "Ünïcödé: é é ﬁ Ⅻ ① ٣٤ İ ΣΑΣ straße",
  "<s>special<|sep|>tokens </s> and <mask>  x<mask>y",
  "numbers 1234567 and 3.14; punct!?... (a,b) [c] {d}",
  "中文字符 and 日本語",
];
const chars = new Set();
for (const t of texts) for (const c of t.normalize('NFD') + t.normalize('NFKC') + t.toLowerCase() + t) chars.add(c);
function vocabFor(transform, extra = []) {
  const v = {};
  let id = 0;
  for (const s of ['<unk>', '<s>', '</s>', '<mask>', '<|sep|>']) v[s] = id++;
  for (let b = 0; b < 256; b++) v['<0x' + b.toString(16).toUpperCase().padStart(2, '0') + '>'] = id++;
  for (const c of [...chars].map(transform).concat(extra)) if (!(c in v)) v[c] = id++;
  return v;
}
const ident = (c) => c;
const merges = [['l', 'l'], ['e', 'll'], ['H', 'ell'], ['o', 'r'], ['w', 'or'], ['i', 's'], ['1', '2'], ['12', '3'], ['▁', 'a'], ['n', 'd'], ['▁a', 'nd']];
function withMerges(v, ms, prefix = '', suffix = '') {
  for (const [a, b] of ms) {
    for (const s of [a, b, a + b]) if (!(s in v)) v[s] = Object.keys(v).length;
  }
  return v;
}
const bpe = (opts = {}) => {
  const v = withMerges(vocabFor(opts.transform || ident, opts.extra || []), merges);
  return {
    type: 'BPE', dropout: null, unk_token: opts.unk === undefined ? '<unk>' : opts.unk,
    continuing_subword_prefix: opts.prefix ?? null, end_of_word_suffix: opts.suffix ?? null,
    fuse_unk: opts.fuse_unk ?? false, byte_fallback: opts.byte_fallback ?? false, ignore_merges: opts.ignore_merges ?? false,
    vocab: v, merges: opts.pairs ? merges : merges.map(([a, b]) => `${a} ${b}`),
  };
};
const added = (flags = {}) => [
  { id: 1, content: '<s>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
  { id: 2, content: '</s>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
  { id: 3, content: '<mask>', single_word: !!flags.single_word, lstrip: !!flags.lstrip, rstrip: !!flags.rstrip, normalized: !!flags.normalized, special: true },
  { id: 4, content: '<|sep|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: false },
];
const bytelevelVocab = () => {
  // every byte-level symbol, so ByteLevel cases never hit unk
  const bs = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n++); }
  return cs.map((c) => String.fromCodePoint(c));
};
const base = (over) => ({ version: '1.0', truncation: null, padding: null, added_tokens: added(), normalizer: null,
  pre_tokenizer: { type: 'Whitespace' }, post_processor: null, decoder: null, model: bpe(), ...over });
const template = { type: 'TemplateProcessing',
  single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
  pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
  special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] }, '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] } } };
const metaDecoder = { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] };
const spVocab = (c) => (c === ' ' ? '▁' : c);

const cases = {
  'normalizer NFC': base({ normalizer: { type: 'NFC' } }),
  'normalizer NFD': base({ normalizer: { type: 'NFD' } }),
  'normalizer NFKC': base({ normalizer: { type: 'NFKC' } }),
  'normalizer NFKD': base({ normalizer: { type: 'NFKD' } }),
  'normalizer Lowercase': base({ normalizer: { type: 'Lowercase' } }),
  'normalizer Strip': base({ normalizer: { type: 'Strip', strip_left: true, strip_right: true }, pre_tokenizer: { type: 'Split', pattern: { String: ' ' }, behavior: 'Isolated', invert: false } }),
  'normalizer Strip right only': base({ normalizer: { type: 'Strip', strip_left: false, strip_right: true }, pre_tokenizer: { type: 'Split', pattern: { String: ' ' }, behavior: 'Isolated', invert: false } }),
  'normalizer StripAccents after NFD': base({ normalizer: { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'StripAccents' }] } }),
  'normalizer Replace regex': base({ normalizer: { type: 'Replace', pattern: { Regex: '\\d+' }, content: '#' } }),
  'normalizer BertNormalizer': base({ normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true } }),
  'normalizer Prepend+Replace (Llama 2) with specials between': base({
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    pre_tokenizer: null, post_processor: template, decoder: metaDecoder, model: bpe({ transform: spVocab, byte_fallback: true, fuse_unk: true }) }),
  'pre_tokenizer Split regex Isolated': base({ pre_tokenizer: { type: 'Split', pattern: { Regex: "(?i:'s|'t)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" }, behavior: 'Isolated', invert: false } }),
  'pre_tokenizer Split Removed': base({ pre_tokenizer: { type: 'Split', pattern: { String: ' ' }, behavior: 'Removed', invert: false } }),
  'pre_tokenizer Split MergedWithPrevious': base({ pre_tokenizer: { type: 'Split', pattern: { String: ' ' }, behavior: 'MergedWithPrevious', invert: false } }),
  'pre_tokenizer Split MergedWithNext': base({ pre_tokenizer: { type: 'Split', pattern: { String: ' ' }, behavior: 'MergedWithNext', invert: false } }),
  'pre_tokenizer Split Contiguous': base({ pre_tokenizer: { type: 'Split', pattern: { Regex: '\\s' }, behavior: 'Contiguous', invert: false } }),
  'pre_tokenizer Split invert': base({ pre_tokenizer: { type: 'Split', pattern: { Regex: '\\p{L}+' }, behavior: 'Removed', invert: true } }),
  'pre_tokenizer Digits individual': base({ pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Digits', individual_digits: true }] } }),
  'pre_tokenizer Digits contiguous': base({ pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Digits', individual_digits: false }] } }),
  'pre_tokenizer Punctuation': base({ pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Punctuation', behavior: 'Isolated' }] } }),
  'pre_tokenizer Whitespace': base({ pre_tokenizer: { type: 'Whitespace' } }),
  'pre_tokenizer WhitespaceSplit': base({ pre_tokenizer: { type: 'WhitespaceSplit' } }),
  'pre_tokenizer BertPreTokenizer': base({ pre_tokenizer: { type: 'BertPreTokenizer' } }),
  'pre_tokenizer Metaspace always': base({ pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true }, decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true }, model: bpe({ transform: spVocab }) }),
  'pre_tokenizer Metaspace first no split': base({ pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false }, model: bpe({ transform: spVocab }) }),
  'pre_tokenizer Metaspace never': base({ pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'never', split: true }, model: bpe({ transform: spVocab }) }),
  'ByteLevel GPT-2 (add_prefix_space, use_regex)': base({ pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true }, decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true }, post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true }, model: bpe({ extra: bytelevelVocab() }) }),
  'ByteLevel without regex': base({ pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }, decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }, model: bpe({ extra: bytelevelVocab(), unk: null }) }),
  'BPE merges as pairs, byte_fallback': base({ model: bpe({ pairs: true, byte_fallback: true }) }),
  'BPE unk not fused': base({ normalizer: { type: 'NFKD' }, model: bpe({ fuse_unk: false, transform: (c) => (/[a-z]/.test(c) ? c : 'a') }) }),
  'BPE unk fused': base({ normalizer: { type: 'NFKD' }, model: bpe({ fuse_unk: true, transform: (c) => (/[a-z]/.test(c) ? c : 'a') }) }),
  'BPE continuing_subword_prefix + end_of_word_suffix': (() => {
    const m = bpe();
    const v = m.vocab;
    for (const k of Object.keys(v)) { v['##' + k] ??= Object.keys(v).length; v[k + '</w>'] ??= Object.keys(v).length; v['##' + k + '</w>'] ??= Object.keys(v).length; }
    m.continuing_subword_prefix = '##'; m.end_of_word_suffix = '</w>';
    m.merges = [['##l', '##l'], ['H', '##e'], ['He', '##ll'], ['##o', '##r</w>']].map(([a, b]) => { for (const s of [a, b, a + b.replace(/^##/, '')]) v[s] ??= Object.keys(v).length; return `${a} ${b}`; });
    return base({ model: m, decoder: { type: 'BPEDecoder', suffix: '</w>' } });
  })(),
  'BPE ignore_merges': (() => { const m = bpe({ ignore_merges: true }); m.vocab['Hello'] = Object.keys(m.vocab).length; m.vocab['world'] = Object.keys(m.vocab).length; return base({ model: m }); })(),
  'added tokens lstrip/rstrip': base({ added_tokens: added({ lstrip: true, rstrip: true }) }),
  'added tokens single_word': base({ added_tokens: added({ single_word: true }) }),
  'added tokens normalized': base({ normalizer: { type: 'Lowercase' }, added_tokens: [...added({ normalized: true }).slice(0, 3), { id: 4, content: '<|sep|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: false }] }),
  'post_processor Sequence(ByteLevel, TemplateProcessing) (Llama 3.1)': base({ post_processor: { type: 'Sequence', processors: [{ type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true }, template] } }),
  'post_processor RobertaProcessing': base({ post_processor: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 1], trim_offsets: true, add_prefix_space: false } }),
};

const out = [];
for (const [name, tj] of Object.entries(cases)) {
  const json = JSON.stringify(tj);
  let t;
  try { t = Tokenizer.fromString(json); } catch (e) { throw new Error(`${name}: ${e.message}`); }
  const rows = [];
  for (const text of texts) {
    const a = (await t.encode(text, null, { addSpecialTokens: true })).getIds();
    const b = (await t.encode(text, null, { addSpecialTokens: false })).getIds();
    rows.push({ text, ids: b, ids_special: a, decoded: await t.decode(b, false) });
  }
  out.push({ name, tokenizer: tj, cases: rows });
}
process.stdout.write(JSON.stringify({ format: 'squint.tokenizer-vectors', version: 1, generator: '@anush008/tokenizers 0.6.0', vectors: out }) + '\n');
