#!/usr/bin/python3
"""A small byte-level BPE tokenizer in the Hugging Face `tokenizer.json` format of Qwen3.5, learned on the demo
model's chat corpus (tools/arithmetic_chat.py rendered with the Qwen3.5 chat template).

Pure Python (+ jinja2 for rendering). The tokenizer has the real Qwen3.5 structure: NFC normalizer, the Qwen3.5
pre-tokenizer regex (Split, Isolated) followed by ByteLevel(use_regex false), BPE whose ids 0..255 are the GPT-2
bytes_to_unicode symbols and id 256+k is merge k, ByteLevel decoder, and the 33 Qwen3.5 added tokens (same order and
special flags as Qwen3.5's added_tokens.json) right after the BPE ids.

  train_bpe_tokenizer.py OUT_DIR [--merges 200] [--examples 20000] [--seed 0]
      writes OUT_DIR/tokenizer.json, tokenizer_config.json, chat_template.jinja

Python's `re` has no \\p{..} classes, so the encoder here uses an ASCII transcription of the regex; that is exact
on ASCII text (the whole corpus). The written tokenizer.json carries the real Unicode pattern.
"""
import argparse
import collections
import json
import os
import re
import sys
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import arithmetic_chat  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CHAT_TEMPLATE_SOURCES = (
    os.path.join(HERE, "..", "..", "shared", "data", "tokenizers", "qwen3.5", "chat_template.jinja"),
    "/work/shared/data/tokenizers/qwen3.5/chat_template.jinja",
)

# Qwen3.5's pretokenize_regex (see shared/data/tokenizers/SOURCES.md, "qwen3.5").
QWEN35_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")
# The same on ASCII text: \p{L} -> A-Za-z, \p{N} -> 0-9, \p{M} (combining marks) -> nothing.
ASCII_REGEX = re.compile(r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\nA-Za-z0-9]?[A-Za-z]+|[0-9]| ?[^\sA-Za-z0-9]+[\r\n]*"
                         r"|\s*[\r\n]+|\s+(?!\S)|\s+")

# Qwen3.5 added tokens in id order (added_tokens.json: ids 248044..248076), with their `special` flag.
ADDED_TOKENS = (
    ("<|endoftext|>", True), ("<|im_start|>", True), ("<|im_end|>", True), ("<|object_ref_start|>", True),
    ("<|object_ref_end|>", True), ("<|box_start|>", True), ("<|box_end|>", True), ("<|quad_start|>", True),
    ("<|quad_end|>", True), ("<|vision_start|>", True), ("<|vision_end|>", True), ("<|vision_pad|>", True),
    ("<|image_pad|>", True), ("<|video_pad|>", True), ("<tool_call>", False), ("</tool_call>", False),
    ("<|fim_prefix|>", False), ("<|fim_middle|>", False), ("<|fim_suffix|>", False), ("<|fim_pad|>", False),
    ("<|repo_name|>", False), ("<|file_sep|>", False), ("<tool_response>", False), ("</tool_response>", False),
    ("<think>", False), ("</think>", False), ("<|audio_start|>", True), ("<|audio_end|>", True), ("<tts_pad>", True),
    ("<tts_text_bos>", True), ("<tts_text_eod>", True), ("<tts_text_bos_single>", True), ("<|audio_pad|>", True),
)


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable-character map; id b of the base vocabulary is the symbol of byte b."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


BYTE_SYMBOL = bytes_to_unicode()
BASE_SYMBOLS = [BYTE_SYMBOL[b] for b in range(256)]


def chat_template_text():
    for p in CHAT_TEMPLATE_SOURCES:
        if os.path.exists(p):
            with open(p, encoding="utf-8") as f:
                return f.read()
    raise FileNotFoundError("Qwen3.5 chat_template.jinja not found in " + ", ".join(CHAT_TEMPLATE_SOURCES))


def make_renderer(template_text):
    """Jinja2 set up like HF transformers' apply_chat_template (trim_blocks, lstrip_blocks, loopcontrols)."""
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(msg):
        raise jinja2.exceptions.TemplateError(msg)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = lambda x, **kw: json.dumps(x, ensure_ascii=False)
    env.globals["raise_exception"] = raise_exception
    tmpl = env.from_string(template_text)

    def render(messages, add_generation_prompt=True, enable_thinking=None):
        ctx = {"messages": messages, "add_generation_prompt": add_generation_prompt}
        if enable_thinking is not None:
            ctx["enable_thinking"] = enable_thinking
        return tmpl.render(**ctx)
    return render


def split_added(text, added):
    """[(segment, is_added)]: leftmost-longest matches of the added tokens' contents, plain text between."""
    out = []
    i = 0
    n = len(text)
    start = 0
    while i < n:
        best = None
        if text[i] == "<":
            for a in added:
                if text.startswith(a, i) and (best is None or len(a) > len(best)):
                    best = a
        if best is None:
            i += 1
            continue
        if start < i:
            out.append((text[start:i], False))
        out.append((best, True))
        i += len(best)
        start = i
    if start < n:
        out.append((text[start:], False))
    return out


def pretokenize(text):
    """NFC, regex split, byte-level symbols: list of words, each a string of byte symbols."""
    text = unicodedata.normalize("NFC", text)
    return ["".join(BYTE_SYMBOL[b] for b in piece.encode("utf-8")) for piece in ASCII_REGEX.findall(text)]


def train_merges(words, n_merges):
    """Classic BPE training on a word-frequency table: repeatedly merge the most frequent adjacent pair
    (ties: the lexicographically smallest pair, so the result is deterministic)."""
    seqs = {tuple(w): c for w, c in collections.Counter(words).items()}
    merges = []
    for _ in range(n_merges):
        pairs = collections.Counter()
        for s, c in seqs.items():
            for a, b in zip(s, s[1:]):
                pairs[(a, b)] += c
        if not pairs:
            break
        best = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        if pairs[best] < 2:
            break
        merges.append(best)
        new = {}
        for s, c in seqs.items():
            out = []
            i = 0
            while i < len(s):
                if i + 1 < len(s) and s[i] == best[0] and s[i + 1] == best[1]:
                    out.append(s[i] + s[i + 1])
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            t = tuple(out)
            new[t] = new.get(t, 0) + c
        seqs = new
    return merges


class Tokenizer:
    """Encoder for the tokenizer this module writes (exact on ASCII text)."""

    def __init__(self, merges):
        self.merges = [tuple(m) for m in merges]
        self.rank = {m: i for i, m in enumerate(self.merges)}
        self.vocab = {s: i for i, s in enumerate(BASE_SYMBOLS)}
        for a, b in self.merges:
            self.vocab[a + b] = len(self.vocab)
        self.n_bpe = len(self.vocab)
        self.added = {c: self.n_bpe + i for i, (c, _) in enumerate(ADDED_TOKENS)}
        self.id_to_str = {i: s for s, i in self.vocab.items()}
        self.id_to_str.update({i: c for c, i in self.added.items()})
        self._cache = {}

    def __len__(self):
        return self.n_bpe + len(self.added)

    def token_id(self, content):
        return self.added[content]

    def _bpe(self, word):
        ids = self._cache.get(word)
        if ids is not None:
            return ids
        syms = list(word)
        while len(syms) > 1:
            best, at = None, -1
            for i in range(len(syms) - 1):
                r = self.rank.get((syms[i], syms[i + 1]))
                if r is not None and (best is None or r < best):
                    best, at = r, i
            if best is None:
                break
            syms[at:at + 2] = [syms[at] + syms[at + 1]]
        ids = [self.vocab[s] for s in syms]
        self._cache[word] = ids
        return ids

    def encode(self, text):
        ids = []
        for seg, is_added in split_added(text, self.added):
            if is_added:
                ids.append(self.added[seg])
            else:
                for w in pretokenize(seg):
                    ids.extend(self._bpe(w))
        return ids

    def decode(self, ids):
        inv = {v: k for k, v in BYTE_SYMBOL.items()}
        out = bytearray()
        for i in ids:
            s = self.id_to_str[i]
            if s in self.added:
                out += s.encode("utf-8")
            else:
                out += bytes(inv[ch] for ch in s)
        return out.decode("utf-8", errors="replace")

    # ------------------------------------------------------------------ files
    def tokenizer_json(self):
        added = [{"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
                  "special": sp} for (c, sp), i in zip(ADDED_TOKENS, sorted(self.added.values()))]
        byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
        return {
            "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
            "normalizer": {"type": "NFC"},
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": QWEN35_REGEX}, "behavior": "Isolated", "invert": False},
                dict(byte_level)]},
            "post_processor": dict(byte_level),
            "decoder": dict(byte_level),
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                      "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                      "vocab": dict(self.vocab), "merges": [[a, b] for a, b in self.merges]},
        }

    def tokenizer_config_json(self):
        decoder = {}
        for (c, sp), i in zip(ADDED_TOKENS, sorted(self.added.values())):
            decoder[str(i)] = {"content": c, "lstrip": False, "normalized": False, "rstrip": False,
                               "single_word": False, "special": sp}
        return {
            "add_bos_token": False, "add_prefix_space": False, "added_tokens_decoder": decoder,
            "additional_special_tokens": [c for c, sp in ADDED_TOKENS if sp and c != "<|endoftext|>"],
            "bos_token": None, "clean_up_tokenization_spaces": False, "eos_token": "<|im_end|>", "errors": "replace",
            "model_max_length": 512, "pad_token": "<|endoftext|>", "pretokenize_regex": QWEN35_REGEX,
            "split_special_tokens": False, "tokenizer_class": "Qwen2Tokenizer", "unk_token": None,
        }

    def save(self, out_dir, template_text):
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(self.tokenizer_json(), f, ensure_ascii=False, indent=2)
            f.write("\n")
        with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump(self.tokenizer_config_json(), f, ensure_ascii=False, indent=2)
            f.write("\n")
        with open(os.path.join(out_dir, "chat_template.jinja"), "w", encoding="utf-8") as f:
            f.write(template_text)


def load(model_dir):
    """The Tokenizer of a tokenizer.json this module wrote."""
    with open(os.path.join(model_dir, "tokenizer.json"), encoding="utf-8") as f:
        tj = json.load(f)
    tok = Tokenizer([tuple(m) for m in tj["model"]["merges"]])
    if tok.vocab != tj["model"]["vocab"]:
        raise ValueError(f"{model_dir}/tokenizer.json: vocab is not base bytes + merges in order")
    return tok


def corpus_texts(render, n_examples, seed):
    """Rendered training conversations (prompt + reply), both thinking modes, for learning merges."""
    texts = []
    for i, ex in enumerate(arithmetic_chat.training_examples(n_examples, seed=seed)):
        thinking = i % 4 != 0
        prompt = render(ex["messages"], True, None if thinking else False)
        reply = ("\n</think>\n\n" if thinking else "") + ex["answer"] + "<|im_end|>"
        texts.append(prompt + reply)
    return texts


def train(n_merges, n_examples, seed, render):
    words = []
    added = {c: 0 for c, _ in ADDED_TOKENS}
    for text in corpus_texts(render, n_examples, seed):
        for seg, is_added in split_added(text, added):
            if not is_added:
                words.extend(pretokenize(seg))
    return Tokenizer(train_merges(words, n_merges))


def check_against_engine(model_dir, tessera, n, seed=12345):
    """Encode n rendered conversations (training phrasings, held-out questions, greetings, both thinking modes)
    with this module and with `tessera tokenize`; returns the number of mismatches (printed)."""
    import subprocess
    import tempfile
    tok = load(model_dir)
    render = make_renderer(chat_template_text())
    texts = corpus_texts(render, n // 2, seed)
    for i, q in enumerate(arithmetic_chat.heldout_questions(n - len(texts))):
        texts.append(render([{"role": "user", "content": q["question"]}], True, None if i % 2 else False) + q["answer"])
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "text.txt")
        for text in texts:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            res = subprocess.run([tessera, "tokenize", "--model", model_dir, "--file", path], capture_output=True,
                                 text=True, check=True)
            got = json.loads(res.stdout)["ids"]
            want = tok.encode(text)
            if got != want:
                bad += 1
                if bad <= 5:
                    print(f"MISMATCH {text!r}\n  python  {want}\n  tessera {got}")
    print(f"tokenizer vs {tessera}: {len(texts) - bad}/{len(texts)} texts encode identically")
    return bad


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir")
    ap.add_argument("--merges", type=int, default=200)
    ap.add_argument("--examples", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--check-with", metavar="TESSERA", default=None,
                    help="do not train: compare OUT_DIR's tokenizer with `TESSERA tokenize` on --check-n texts")
    ap.add_argument("--check-n", type=int, default=300)
    a = ap.parse_args(argv)
    if a.check_with:
        return 1 if check_against_engine(a.out_dir, a.check_with, a.check_n) else 0
    tmpl = chat_template_text()
    tok = train(a.merges, a.examples, a.seed, make_renderer(tmpl))
    tok.save(a.out_dir, tmpl)
    print(f"{len(tok.merges)} merges, {tok.n_bpe} BPE ids, {len(tok)} tokens; "
          f"<|im_end|>={tok.token_id('<|im_end|>')} <|endoftext|>={tok.token_id('<|endoftext|>')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
