"""The run directory's config.yaml (mt writes it fully resolved: every default filled in).

PyYAML is used when it is importable (Debian's python3-torch depends on it); otherwise a small
reader of the YAML subset mt's config writer produces (block mappings and sequences, flow `[]`
and `{}`, plain, single- and double-quoted scalars). The model section can also come from a
checkpoint's state.json, which holds it as JSON.
"""

from __future__ import annotations

import json
import os
import re

try:  # pragma: no cover - depends on the machine
    import yaml as _yaml
except ImportError:  # pragma: no cover
    _yaml = None

# The defaults of src/config/sections/model.ts, for model configs given by hand (tests, tools).
RNN_DEFAULTS = {"cell": "gru", "emb_size": 256, "hidden_size": 512, "layers": 1, "bidirectional": True, "dropout": 0.1,
                "tie_embeddings": False}
MODEL_DEFAULTS = {
    "seq2seq": {**RNN_DEFAULTS, "context_every_step": False},
    "attention": {**RNN_DEFAULTS, "attention": "bahdanau", "input_feeding": True},
    "transformer": {"d_model": 256, "heads": 4, "ff_size": 1024, "encoder_layers": 3, "decoder_layers": 3, "dropout": 0.1,
                    "norm": "pre", "positions": "sinusoidal", "max_positions": 256, "tie_embeddings": True},
}
ATTENTION_KINDS = ("bahdanau", "luong_dot", "luong_general", "luong_scaled_dot")


def model_config(cfg: dict) -> dict:
    """A model section with mt's defaults filled in, checked as far as the PyTorch side needs."""
    kind = cfg.get("type")
    if kind not in MODEL_DEFAULTS:
        raise ValueError(f"model.type must be seq2seq, attention or transformer, not {kind!r}")
    out = {"type": kind, **MODEL_DEFAULTS[kind], **cfg}
    unknown = sorted(set(out) - set(MODEL_DEFAULTS[kind]) - {"type"})
    if unknown:
        raise ValueError(f"model: unknown keys {unknown} for type {kind}")
    if kind == "transformer":
        if out["d_model"] % out["heads"]:
            raise ValueError("model.d_model must be divisible by model.heads")
    else:
        if out["cell"] not in ("gru", "lstm"):
            raise ValueError(f"model.cell must be gru or lstm, not {out['cell']!r}")
        if out["bidirectional"] and out["hidden_size"] % 2:
            raise ValueError("model.hidden_size must be even with a bidirectional encoder")
        if kind == "attention" and out["attention"] not in ATTENTION_KINDS:
            raise ValueError(f"model.attention must be one of {', '.join(ATTENTION_KINDS)}")
    return out


if _yaml is not None:  # pragma: no branch
    class _Loader(_yaml.SafeLoader):
        """PyYAML reads YAML 1.1, where 1e-7 (no dot) is a string; mt writes YAML 1.2, where it is a float."""

    _Loader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$"),
                                  list("-+0123456789."))


def read_yaml(path: str | os.PathLike) -> dict:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if _yaml is not None:
        return _yaml.load(text, Loader=_Loader)
    return parse_yaml(text)


def read_run_config(run_dir: str | os.PathLike) -> dict:
    path = os.path.join(run_dir, "config.yaml")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: missing (not an mt run directory?)")
    return read_yaml(path)


# ---------------------------------------------------------------------------------------------
# The YAML subset of mt's config.yaml, for machines without PyYAML.

_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")


def _scalar(text: str):
    t = text.strip()
    if t == "" or t in ("~", "null", "Null", "NULL"):
        return None
    if t in ("true", "True", "TRUE"):
        return True
    if t in ("false", "False", "FALSE"):
        return False
    if t.startswith('"'):
        return json.loads(t)
    if t.startswith("'"):
        return t[1:-1].replace("''", "'")
    if t.startswith("["):
        return _flow(t)
    if t.startswith("{"):
        return _flow(t)
    if _INT.match(t):
        return int(t)
    if _FLOAT.match(t):
        return float(t)
    if t in (".inf", ".Inf", "+.inf"):
        return float("inf")
    if t in ("-.inf", "-.Inf"):
        return float("-inf")
    return t


def _split_flow(body: str) -> list[str]:
    parts, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(body):
        if quote:
            if ch == quote and (quote == "'" or body[i - 1] != "\\"):
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(body[start:i])
            start = i + 1
    if body[start:].strip():
        parts.append(body[start:])
    return [p.strip() for p in parts]


def _flow(text: str):
    body = text[1:-1]
    if text.startswith("["):
        return [_scalar(p) for p in _split_flow(body)]
    out = {}
    for p in _split_flow(body):
        k, _, v = _key_value(p)
        out[k] = _scalar(v)
    return out


def _strip_comment(line: str) -> str:
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip()
    return line.rstrip()


def _key_value(text: str) -> tuple[str, bool, str]:
    """'key: value' -> (key, has_colon, value)."""
    if text.startswith(('"', "'")):
        end = text.index(text[0], 1)
        while text[0] == '"' and text[end - 1] == "\\":
            end = text.index('"', end + 1)
        key = _scalar(text[: end + 1])
        rest = text[end + 1:]
        if rest.startswith(":"):
            return key, True, rest[1:].strip()
        return key, False, ""
    m = re.match(r"^([^:]*?):(\s+|$)(.*)$", text)
    if not m:
        return text, False, ""
    return m.group(1), True, m.group(3)


def parse_yaml(text: str):
    lines = []
    for raw in text.splitlines():
        if raw.strip() in ("---", "...") and not raw.startswith(" "):
            continue
        line = _strip_comment(raw)
        if line.strip():
            lines.append((len(line) - len(line.lstrip(" ")), line.strip()))
    value, _ = _block(lines, 0, 0)
    return value


def _block(lines, i, indent):
    if i >= len(lines):
        return None, i
    ind, text = lines[i]
    if text.startswith("- ") or text == "-":
        items = []
        while i < len(lines) and lines[i][0] == ind and (lines[i][1].startswith("- ") or lines[i][1] == "-"):
            rest = lines[i][1][2:].strip() if lines[i][1] != "-" else ""
            if rest == "":
                value, i = _block(lines, i + 1, ind + 1)
            elif _key_value(rest)[1] and not rest.startswith(("[", "{")):
                # "- key: value" opens a mapping whose other keys sit under the key's column.
                sub_indent = ind + 2
                lines[i] = (sub_indent, rest)
                value, i = _mapping(lines, i, sub_indent)
            else:
                value, i = _scalar(rest), i + 1
            items.append(value)
        return items, i
    return _mapping(lines, i, ind)


def _mapping(lines, i, ind):
    out = {}
    while i < len(lines) and lines[i][0] == ind:
        key, colon, rest = _key_value(lines[i][1])
        if not colon:
            raise ValueError(f"config.yaml: cannot read line {lines[i][1]!r}")
        if rest == "":
            if i + 1 < len(lines) and (lines[i + 1][0] > ind or (lines[i + 1][0] == ind and lines[i + 1][1].startswith("- "))):
                value, i = _block(lines, i + 1, lines[i + 1][0])
            else:
                value, i = None, i + 1
        else:
            value, i = _scalar(rest), i + 1
        out[key] = value
    return out, i
