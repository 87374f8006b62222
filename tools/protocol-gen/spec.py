"""Reading Kafka's JSON message definitions into a small model.

The JSON files carry `//` comments, which are stripped before parsing. A
message has `validVersions`, `flexibleVersions` and a tree of fields; a field
of struct type (or array of structs) carries its own `fields`, or names one of
the message's `commonStructs`.
"""

import json
import re

INF = 1 << 15  # open-ended version range ("3+")


class Versions:
    """A contiguous version range; empty when `lo` is None ("none")."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    @staticmethod
    def parse(text):
        text = (text or "").strip()
        if text in ("", "none"):
            return Versions(None, None)
        if text.endswith("+"):
            return Versions(int(text[:-1]), INF)
        if "-" in text:
            a, b = text.split("-")
            return Versions(int(a), int(b))
        return Versions(int(text), int(text))

    def empty(self):
        return self.lo is None

    def contains(self, v):
        return not self.empty() and self.lo <= v <= self.hi

    def intersect(self, other):
        if self.empty() or other.empty():
            return Versions(None, None)
        lo, hi = max(self.lo, other.lo), min(self.hi, other.hi)
        return Versions(lo, hi) if lo <= hi else Versions(None, None)

    def __str__(self):
        if self.empty():
            return "none"
        if self.hi == INF:
            return "%d+" % self.lo
        if self.lo == self.hi:
            return "%d" % self.lo
        return "%d-%d" % (self.lo, self.hi)


PRIMITIVES = {"int8", "int16", "int32", "int64", "uint16", "uint32", "float64",
              "bool", "string", "bytes", "uuid", "records"}


class Field:
    def __init__(self, js, msg):
        self.name = js["name"]
        self.type = js["type"]
        self.versions = Versions.parse(js.get("versions"))
        self.nullable = Versions.parse(js.get("nullableVersions"))
        self.tagged = Versions.parse(js.get("taggedVersions"))
        self.tag = js.get("tag")
        if isinstance(self.tag, str):  # some definitions write "tag": "0"
            self.tag = int(self.tag)
        self.ignorable = js.get("ignorable", False)
        self.default = js.get("default")
        self.flexible = (Versions.parse(js["flexibleVersions"])
                         if "flexibleVersions" in js else msg.flexible)
        self.about = js.get("about", "")
        self.is_array = self.type.startswith("[]")
        self.elem = self.type[2:] if self.is_array else self.type
        self.is_struct = self.elem not in PRIMITIVES
        self.fields = [Field(f, msg) for f in js.get("fields", [])]
        if self.tag is not None and self.tagged.empty():
            raise ValueError("%s: tag without taggedVersions" % self.name)

    def ever_nullable(self):
        return not self.nullable.empty()


class Message:
    def __init__(self, js):
        self.name = js["name"]
        self.kind = js["type"]  # request | response | header | data
        self.api_key = js.get("apiKey")
        self.valid = Versions.parse(js["validVersions"])
        self.flexible = Versions.parse(js.get("flexibleVersions"))
        self.common = {}
        for c in js.get("commonStructs", []):
            self.common[c["name"]] = [Field(f, self) for f in c["fields"]]
        self.fields = [Field(f, self) for f in js["fields"]]

    def first_flexible(self):
        f = self.flexible.intersect(self.valid)
        return -1 if f.empty() else f.lo


def strip_comments(text):
    out = []
    for line in text.splitlines():
        # A '//' inside a JSON string would be cut too; Kafka's files only use
        # whole-line or trailing comments outside strings, so cut only when the
        # quotes before it are balanced.
        i = line.find("//")
        while i >= 0:
            if line[:i].count('"') % 2 == 0:
                line = line[:i]
                break
            i = line.find("//", i + 2)
        out.append(line)
    return "\n".join(out)


def load_message(path):
    with open(path, encoding="utf-8") as f:
        return Message(json.loads(strip_comments(f.read())))


def snake(name):
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return s.lower()
