#!/usr/bin/env python3
"""Writes a small byte-level BPE tokenizer.json in DeepSeek's format whose ids fit the
1280-token vocabulary of the v4-oracle fixture checkpoints, so `run` and `chat` can be tested
end to end on them. Same pre-tokenizer and decoder as DeepSeek's tokenizer, 256 byte tokens,
merges learned greedily from a fixed text, and V4's special tokens at the top of the range.

Every id below the special tokens is a vocabulary entry, so any id a model samples decodes.

usage: make_tiny_tokenizer.py DEEPSEEK_TOKENIZER_JSON OUTPUT_DIR [CORPUS_FILE ...]
"""
import collections
import json
import re
import sys

VOCAB = 1280
SPECIAL = ["<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"]  # ids 0 and 1, as in V4's config
V4_SPECIAL = ["<｜User｜>", "<｜Assistant｜>", "<think>", "</think>", "<｜latest_reminder｜>", "｜DSML｜",
              "<｜action｜>", "<｜query｜>", "<｜authority｜>", "<｜domain｜>", "<｜title｜>", "<｜read_url｜>"]
TEXT = """The quick brown fox jumps over the lazy dog. A tokenizer turns text into numbers and back.
DeepSeek-V4 is a mixture-of-experts transformer with compressed sparse attention, hyper-connections
and a multi-token prediction block. The weather in Beijing is sunny today, 22 degrees. What is the
capital of France? The capital of France is Paris. def main(): return 0  # code, numbers 12345.
Hello, world! How are you? I am fine, thank you. Let me think about this step by step."""


def bytes_to_unicode():
    visible = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    codes = visible[:]
    extra = 0
    for b in range(256):
        if b not in visible:
            visible.append(b)
            codes.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(visible, codes)}


def main():
    source, out_dir = sys.argv[1], sys.argv[2]
    text = TEXT
    for path in sys.argv[3:]:
        with open(path, encoding="utf-8") as f:
            text += "\n" + f.read()
    with open(source, encoding="utf-8") as f:
        deepseek = json.load(f)
    byte_map = bytes_to_unicode()
    vocab = {}
    for i, token in enumerate(SPECIAL):
        vocab[token] = i
    for b in range(256):
        vocab[byte_map[b]] = len(vocab)
    first_special = VOCAB - len(V4_SPECIAL)
    words = collections.Counter(
        "".join(byte_map[b] for b in w.encode("utf-8")) for w in re.findall(r" ?\w+| ?[^\w\s]+|\s+", text))
    splits = {w: list(w) for w in words}
    merges = []
    while len(vocab) < first_special:
        pairs = collections.Counter()
        for w, n in words.items():
            s = splits[w]
            for a, b in zip(s, s[1:]):
                pairs[a, b] += n
        if not pairs:
            break
        (a, b), _ = max(pairs.items(), key=lambda item: (item[1], item[0]))
        merges.append(f"{a} {b}")
        vocab[a + b] = len(vocab)
        for w in words:
            s, merged, i = splits[w], [], 0
            while i < len(s):
                if i + 1 < len(s) and s[i] == a and s[i + 1] == b:
                    merged.append(a + b)
                    i += 2
                else:
                    merged.append(s[i])
                    i += 1
            splits[w] = merged
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, t in enumerate(SPECIAL)]
    added += [{"id": first_special + i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
               "normalized": False, "special": True} for i, t in enumerate(V4_SPECIAL)]
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": deepseek["normalizer"], "pre_tokenizer": deepseek["pre_tokenizer"],
        "post_processor": deepseek["post_processor"], "decoder": deepseek["decoder"],
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "vocab": vocab, "merges": merges},
    }
    with open(f"{out_dir}/tokenizer.json", "w", encoding="utf-8") as f:
        json.dump(tokenizer, f, ensure_ascii=False, indent=1)
    config = {"add_bos_token": False, "add_eos_token": False, "bos_token": SPECIAL[0], "eos_token": SPECIAL[1],
              "model_max_length": 1048576, "tokenizer_class": "PreTrainedTokenizerFast"}
    with open(f"{out_dir}/tokenizer_config.json", "w", encoding="utf-8") as f:
        json.dump(config, f, ensure_ascii=False, indent=1)
    if len(vocab) < first_special:
        sys.exit(f"the corpus gave only {len(vocab)} entries; {first_special} are needed")
    print(f"{len(vocab)} vocabulary entries, {len(merges)} merges, {len(added)} added tokens")


if __name__ == "__main__":
    main()
