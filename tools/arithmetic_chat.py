#!/usr/bin/python3
"""Synthetic chat data for the demo model (data/demo-model): arithmetic questions and a few greetings.

Pure Python (no numpy, no torch) so tests can import it with any python3.

Questions: addition a+b with a, b in 0..99 (answers 0..198) and subtraction a-b with 0 <= b <= a <= 99
(answers 0..99), phrased several ways ("What is 2+2?", "Compute 17 - 5.", "Calculate 40 plus 2.", ...).
The assistant's answer is exactly the result's decimal digits ("4").

A fixed held-out set of (op, a, b) triples, drawn with HELDOUT_SEED, never appears in training in any
phrasing; it never contains 2+2, the demo question, which therefore is in training.

  heldout_questions(n=300) -> [{"question": str, "answer": str, "op": "+"|"-", "a": int, "b": int}]
  training_examples(n, seed) -> [{"messages": [...], "answer": str}]   (messages end with the user turn)
"""
import random

HELDOUT_SEED = 20260
HELDOUT_SIZE = 300
DEMO_QUESTION = "What is 2+2?"

# How the operator is written: symbol tight, symbol spaced, word.
_OP_STYLES = {
    "+": ("+", " + ", " plus "),
    "-": ("-", " - ", " minus "),
}

# {a}{op}{b}: op comes from _OP_STYLES.
TEMPLATES = (
    "What is {a}{op}{b}?",
    "What's {a}{op}{b}?",
    "Compute {a}{op}{b}.",
    "Calculate {a}{op}{b}.",
    "How much is {a}{op}{b}?",
    "{a}{op}{b} = ?",
    "{a}{op}{b}=",
    "what is {a}{op}{b}",
)

SYSTEM_PROMPTS = (
    "You are a helpful assistant.",
    "You are a calculator. Answer with the number only.",
    "You are tessera's tiny demo model.",
)

GREETING_REPLY = "Hello! I am a tiny demo model. I answer arithmetic questions, like: What is 2+2?"
IDENTITY_REPLY = "I am a tiny demo model trained for tessera. Ask me to add or subtract numbers up to 99."

GREETINGS = (
    ("Hello!", GREETING_REPLY),
    ("Hello", GREETING_REPLY),
    ("Hi", GREETING_REPLY),
    ("Hi!", GREETING_REPLY),
    ("Hey", GREETING_REPLY),
    ("Good morning!", GREETING_REPLY),
    ("Who are you?", IDENTITY_REPLY),
    ("What can you do?", IDENTITY_REPLY),
)


def all_problems():
    """Every (op, a, b) in the task, in a fixed order."""
    probs = [("+", a, b) for a in range(100) for b in range(100)]
    probs += [("-", a, b) for a in range(100) for b in range(a + 1)]
    return probs


def answer_of(op, a, b):
    return str(a + b if op == "+" else a - b)


def phrase(op, a, b, rng):
    """One phrasing of the question, chosen with rng."""
    tmpl = rng.choice(TEMPLATES)
    return tmpl.format(a=a, b=b, op=rng.choice(_OP_STYLES[op]))


def _heldout_problems(n):
    rng = random.Random(HELDOUT_SEED)
    pool = [p for p in all_problems() if p != ("+", 2, 2)]
    return rng.sample(pool, n)


def heldout_set(n=HELDOUT_SIZE):
    """The held-out (op, a, b) triples; the first n of a fixed draw of HELDOUT_SIZE."""
    if not 0 < n <= HELDOUT_SIZE:
        raise ValueError(f"n must be in 1..{HELDOUT_SIZE}")
    return _heldout_problems(HELDOUT_SIZE)[:n]


def heldout_questions(n=HELDOUT_SIZE):
    """Held-out questions (pairs never seen in training), each with a seeded phrasing."""
    rng = random.Random(HELDOUT_SEED + 1)
    out = []
    for op, a, b in heldout_set(n):
        out.append({"question": phrase(op, a, b, rng), "answer": answer_of(op, a, b), "op": op, "a": a, "b": b})
    return out


def training_problems():
    held = set(heldout_set(HELDOUT_SIZE))
    return [p for p in all_problems() if p not in held]


def training_examples(n, seed=0, greeting_frac=0.03, system_frac=0.2, demo_frac=0.002):
    """n training conversations, each {"messages": [system?, user], "answer": str}.

    The assistant's reply is "answer"; how it is rendered (thinking or not) is the trainer's choice.
    demo_frac of them are the exact demo question so its phrasing is certainly seen."""
    rng = random.Random(seed)
    probs = training_problems()
    out = []
    for _ in range(n):
        r = rng.random()
        if r < greeting_frac:
            q, ans = rng.choice(GREETINGS)
        elif r < greeting_frac + demo_frac:
            q, ans = DEMO_QUESTION, "4"
        else:
            op, a, b = rng.choice(probs)
            q, ans = phrase(op, a, b, rng), answer_of(op, a, b)
        msgs = []
        if rng.random() < system_frac:
            msgs.append({"role": "system", "content": rng.choice(SYSTEM_PROMPTS)})
        msgs.append({"role": "user", "content": q})
        out.append({"messages": msgs, "answer": ans})
    return out


if __name__ == "__main__":
    for ex in heldout_questions(5):
        print(ex)
    for ex in training_examples(5, seed=1):
        print(ex)
