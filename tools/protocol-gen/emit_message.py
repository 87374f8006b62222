"""Emits one C++ struct (header + source) per Kafka message.

One struct covers every version of a message: encode/decode take the version
and test, per field, whether the field exists in it (`versions`), is written
in the tagged section (`taggedVersions`), may be null (`nullableVersions`) and
uses compact lengths (`flexibleVersions`, per field when overridden).
"""

from spec import INF, Versions, snake

CPP_KEYWORDS = {
    "alignas", "alignof", "and", "asm", "auto", "bool", "break", "case", "catch",
    "char", "class", "const", "continue", "default", "delete", "do", "double",
    "else", "enum", "explicit", "export", "extern", "false", "float", "for",
    "friend", "goto", "if", "inline", "int", "long", "mutable", "namespace", "new",
    "noexcept", "not", "nullptr", "operator", "or", "private", "protected",
    "public", "register", "return", "short", "signed", "sizeof", "static",
    "struct", "switch", "template", "this", "throw", "true", "try", "typedef",
    "typename", "union", "unsigned", "using", "virtual", "void", "volatile",
    "while", "xor", "encode", "decode", "unknown_tags", "version",
}

INT_TYPES = {"int8": "int8_t", "int16": "int16_t", "int32": "int32_t",
             "int64": "int64_t", "uint16": "uint16_t", "uint32": "uint32_t"}
INT_RANGE = {"int8": (-2**7, 2**7 - 1), "int16": (-2**15, 2**15 - 1),
             "int32": (-2**31, 2**31 - 1), "int64": (-2**63, 2**63 - 1),
             "uint16": (0, 2**16 - 1), "uint32": (0, 2**32 - 1)}
WRITER_FN = {"int8": "int8", "int16": "int16", "int32": "int32", "int64": "int64",
             "uint16": "uint16", "uint32": "uint32", "float64": "float64",
             "bool": "boolean"}


def member_name(field):
    n = snake(field.name)
    return n + "_" if n in CPP_KEYWORDS else n


def file_stem(msg_name):
    return snake(msg_name)


class Ctx:
    """Per-message emission context: the version range that conditions are
    simplified against."""

    def __init__(self, msg):
        self.msg = msg
        self.valid = msg.valid

    def cond(self, versions):
        """C++ expression true when `version` lies in `versions`."""
        r = versions.intersect(self.valid)
        if r.empty():
            return "false"
        parts = []
        if r.lo > self.valid.lo:
            parts.append("version >= %d" % r.lo)
        if r.hi < self.valid.hi:
            parts.append("version <= %d" % r.hi)
        if not parts:
            return "true"
        return parts[0] if len(parts) == 1 else "(%s)" % " && ".join(parts)

    def inline_cond(self, f):
        """Field written in the fixed (non-tagged) part of `version`."""
        present = self.cond(f.versions)
        if f.tagged.empty() or present == "false":
            return present
        tv = f.tagged.intersect(self.valid)
        pv = f.versions.intersect(self.valid)
        if not tv.empty() and tv.lo <= pv.lo and tv.hi >= pv.hi:
            return "false"  # always tagged where present
        tagged = self.cond(f.tagged)
        return and_(present, "!(%s)" % tagged)


def and_(a, b):
    if a == "false" or b == "false":
        return "false"
    if a == "true":
        return b
    if b == "true":
        return a
    return "%s && %s" % (a, b)


# ---------------------------------------------------------------- C++ types

def elem_cpp_type(f):
    if f.is_struct:
        return f.elem
    return scalar_cpp_type(f.elem, nullable=False)


def scalar_cpp_type(t, nullable):
    if t in INT_TYPES:
        return INT_TYPES[t]
    base = {"float64": "double", "bool": "bool", "string": "std::string",
            "bytes": "std::vector<uint8_t>", "uuid": "Uuid", "records": "Records"}[t]
    if nullable and t in ("string", "bytes"):
        return "std::optional<%s>" % base
    return base


def cpp_type(f):
    if f.is_array:
        v = "std::vector<%s>" % elem_cpp_type(f)
        return "std::optional<%s>" % v if f.ever_nullable() else v
    if f.is_struct:
        return "std::optional<%s>" % f.elem if f.ever_nullable() else f.elem
    return scalar_cpp_type(f.type, f.ever_nullable())


def int_literal(t, value):
    lo, hi = INT_RANGE[t]
    if value < lo or value > hi:
        raise ValueError("default %d out of range for %s" % (value, t))
    if value == lo and lo < 0:
        return "std::numeric_limits<%s>::min()" % INT_TYPES[t]
    suffix = "LL" if t == "int64" else ("U" if t.startswith("uint") else "")
    return "%d%s" % (value, suffix)


def cpp_string_literal(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def default_info(f):
    """(initializer or None, C++ expression 'value differs from default' given V)."""
    d = f.default
    is_null = isinstance(d, str) and d == "null"
    if is_null and not f.ever_nullable():
        raise ValueError("%s: null default on a non-nullable field" % f.name)
    t = f.type
    if f.is_array or t == "bytes" or (f.is_struct and not f.is_array):
        if f.is_struct and not f.is_array:
            empty = "%s{}" % f.elem
            if not f.ever_nullable():
                return None, "!({V} == %s)" % empty
            if is_null:
                return None, "{V}.has_value()"
            return "{std::in_place}", "(!{V} || !(*{V} == %s))" % empty
        if not f.ever_nullable():
            return None, "!{V}.empty()"
        if is_null:
            return None, "{V}.has_value()"
        return "{std::in_place}", "(!{V} || !{V}->empty())"
    if t in INT_TYPES:
        v = int(str(d), 0) if d not in (None, "") else 0
        lit = int_literal(t, v)
        return lit, "{V} != %s" % lit
    if t == "float64":
        v = float(d) if d not in (None, "") else 0.0
        lit = repr(v)
        return lit, "{V} != %s" % lit
    if t == "bool":
        v = str(d).lower() == "true" if d is not None else False
        lit = "true" if v else "false"
        return lit, "{V} != %s" % lit
    if t == "string":
        s = "" if d is None else str(d)
        if f.ever_nullable():
            if is_null:
                return None, "{V}.has_value()"
            return ("std::string(%s)" % cpp_string_literal(s),
                    "(!{V} || *{V} != %s)" % cpp_string_literal(s))
        if s == "":
            return None, "!{V}.empty()"
        return cpp_string_literal(s), "{V} != %s" % cpp_string_literal(s)
    if t == "uuid":
        return None, "!({V} == Uuid{})"
    if t == "records":
        return None, "!({V} == Records{})"
    raise ValueError("no default rule for %s" % t)


# ------------------------------------------------------------ encode/decode

def encode_stmt(ctx, f, W, V, flex, nullable):
    if f.is_array:
        et = elem_cpp_type(f)
        body = encode_elem(f, W, "e", flex)
        fn = "write_nullable_array" if f.ever_nullable() else "write_array"
        extra = ", %s" % nullable if f.ever_nullable() else ""
        return "wire::%s(%s, %s, %s%s, [&](const %s& e) { %s });" % (
            fn, W, V, flex, extra, et, body)
    if f.is_struct:
        if f.ever_nullable():
            return "wire::write_nullable_struct(%s, %s, %s, version);" % (W, V, nullable)
        return "%s.encode(%s, version);" % (V, W)
    return encode_scalar(f.type, f.ever_nullable(), W, V, flex, nullable)


def encode_elem(f, W, V, flex):
    if f.is_struct:
        return "%s.encode(%s, version);" % (V, W)
    return encode_scalar(f.elem, False, W, V, flex, "false")


def encode_scalar(t, opt, W, V, flex, nullable):
    if t in WRITER_FN:
        return "%s.%s(%s);" % (W, WRITER_FN[t], V)
    if t == "uuid":
        return "wire::write_uuid(%s, %s);" % (W, V)
    if t == "records":
        return "wire::write_records(%s, %s, %s, %s);" % (W, V, flex, nullable)
    if t in ("string", "bytes"):
        if opt:
            return "wire::write_nullable_%s(%s, %s, %s, %s);" % (t, W, V, flex, nullable)
        return "wire::write_%s(%s, %s, %s);" % (t, W, V, flex)
    raise ValueError(t)


def decode_stmt(ctx, f, R, V, flex, nullable):
    if f.is_array:
        et = elem_cpp_type(f)
        body = decode_elem(f, R, "e", flex)
        if f.ever_nullable():
            return "wire::read_nullable_array(%s, %s, %s, %s, [&](%s& e) { %s });" % (
                R, V, flex, nullable, et, body)
        return "wire::read_array(%s, %s, %s, [&](%s& e) { %s });" % (R, V, flex, et, body)
    if f.is_struct:
        if f.ever_nullable():
            return "wire::read_nullable_struct(%s, %s, %s, version);" % (R, V, nullable)
        return "%s.decode(%s, version);" % (V, R)
    return decode_scalar(f.type, f.ever_nullable(), R, V, flex, nullable)


def decode_elem(f, R, V, flex):
    if f.is_struct:
        return "%s.decode(%s, version);" % (V, R)
    return decode_scalar(f.elem, False, R, V, flex, "false")


def decode_scalar(t, opt, R, V, flex, nullable):
    if t in WRITER_FN:
        return "%s = %s.%s();" % (V, R, WRITER_FN[t])
    if t == "uuid":
        return "wire::read_uuid(%s, %s);" % (R, V)
    if t == "records":
        return "wire::read_records(%s, %s, %s, %s);" % (R, V, flex, nullable)
    if t in ("string", "bytes"):
        if opt:
            return "wire::read_nullable_%s(%s, %s, %s, %s);" % (t, R, V, flex, nullable)
        return "wire::read_%s(%s, %s, %s);" % (t, R, V, flex)
    raise ValueError(t)


# ------------------------------------------------------------------ structs

class StructDef:
    """A struct to emit: the message itself, a common struct, or a nested one."""

    def __init__(self, name, fields, path):
        self.name, self.fields, self.path = name, fields, path  # path: C++ qualified name


def nested_structs(fields, seen):
    """Struct types defined inline by these fields (in field order)."""
    out = []
    for f in fields:
        if f.is_struct and f.fields and f.elem not in seen:
            seen.add(f.elem)
            out.append(f)
    return out


def walk_structs(msg):
    """All StructDefs in post-order (children before parents)."""
    result = []

    def visit(name, fields, path):
        for f in nested_structs(fields, set()):
            visit(f.elem, f.fields, path + "::" + f.elem)
        result.append(StructDef(name, fields, path))

    for cname, cfields in msg.common.items():
        visit(cname, cfields, msg.name + "::" + cname)
    visit(msg.name, msg.fields, msg.name)
    return result


def emit_struct_decl(ctx, name, fields, indent, out, top=False):
    pad = "  " * indent
    out.append("%sstruct %s {" % (pad, name))
    inner = pad + "  "
    if top:
        m = ctx.msg
        if m.api_key is not None:
            out.append("%sstatic constexpr int16_t kApiKey = %d;" % (inner, m.api_key))
        out.append("%sstatic constexpr int16_t kLowestVersion = %d, kHighestVersion = %d;" % (
            inner, m.valid.lo, m.valid.hi))
        out.append("%sstatic constexpr int16_t kFirstFlexibleVersion = %d;" % (inner, m.first_flexible()))
        out.append("")
        for cname, cfields in m.common.items():
            emit_struct_decl(ctx, cname, cfields, indent + 1, out)
    for f in nested_structs(fields, set()):
        if f.elem == name:
            raise ValueError("struct %s nests a struct of its own name" % name)
        emit_struct_decl(ctx, f.elem, f.fields, indent + 1, out)
    for f in fields:
        init, _ = default_info(f)
        about = f.about.replace("\n", " ")
        out.append("%s// %s%s" % (inner, about[:110], "" if len(about) <= 110 else "..."))
        out.append("%s%s %s%s;" % (inner, cpp_type(f), member_name(f),
                                   "" if init is None else (init if init.startswith("{") else " = " + init)))
    out.append("%sUnknownTags unknown_tags;" % inner)
    out.append("")
    out.append("%svoid encode(wire::Writer& w, int16_t version) const;" % inner)
    out.append("%sbool decode(wire::Reader& r, int16_t version);" % inner)
    out.append("%sbool operator==(const %s&) const = default;" % (inner, name))
    out.append("%s};" % pad)
    out.append("")


def emit_struct_impl(ctx, sd, out, top):
    msg = ctx.msg
    flex_msg = ctx.cond(msg.flexible)
    tagged = sorted([f for f in sd.fields if not f.tagged.intersect(ctx.valid).empty()],
                    key=lambda f: f.tag)
    tags = [f.tag for f in tagged]
    if len(tags) != len(set(tags)):
        raise ValueError("%s: duplicate tags" % sd.path)

    # encode
    out.append("void %s::encode(wire::Writer& w, int16_t version) const {" % sd.path)
    out.append("  (void)version;")
    for f in sd.fields:
        c = ctx.inline_cond(f)
        if c == "false":
            continue
        stmt = encode_stmt(ctx, f, "w", member_name(f), ctx.cond(f.flexible), ctx.cond(f.nullable))
        out.append("  " + stmt if c == "true" else "  if (%s) %s" % (c, stmt))
    if flex_msg != "false":
        out.append("  if (%s) {" % flex_msg)
        if tagged:
            out.append("    wire::TaggedFieldsWriter tagged;")
            for f in tagged:
                _, differs = default_info(f)
                c = and_(ctx.cond(f.tagged), differs.replace("{V}", member_name(f)))
                out.append("    if (%s) {" % c)
                out.append("      wire::Writer tw(tagged.add(%d));" % f.tag)
                out.append("      " + encode_stmt(ctx, f, "tw", member_name(f), "true", ctx.cond(f.nullable)))
                out.append("    }")
            out.append("    tagged.finish(w, unknown_tags);")
        else:
            out.append("    wire::write_unknown_tags(w, unknown_tags);")
        out.append("  }")
    out.append("}")
    out.append("")

    # decode
    out.append("bool %s::decode(wire::Reader& r, int16_t version) {" % sd.path)
    if top:
        out.append("  if (version < kLowestVersion || version > kHighestVersion) { r.fail(); return false; }")
        out.append("  *this = %s{};" % sd.name)
    else:
        out.append("  (void)version;")
    for f in sd.fields:
        c = ctx.inline_cond(f)
        if c == "false":
            continue
        stmt = decode_stmt(ctx, f, "r", member_name(f), ctx.cond(f.flexible), ctx.cond(f.nullable))
        out.append("  " + stmt if c == "true" else "  if (%s) %s" % (c, stmt))
    if flex_msg != "false":
        out.append("  if (%s) {" % flex_msg)
        if tagged:
            out.append("    wire::read_tagged_fields(r, unknown_tags, [&](uint32_t tag, wire::Reader& tr) -> bool {")
            out.append("      switch (tag) {")
            for f in tagged:
                out.append("        case %d:" % f.tag)
                c = ctx.cond(f.tagged)
                if c != "true":
                    out.append("          if (!(%s)) return false;" % c)
                out.append("          " + decode_stmt(ctx, f, "tr", member_name(f), "true", ctx.cond(f.nullable)))
                out.append("          return true;")
            out.append("        default:")
            out.append("          return false;")
            out.append("      }")
            out.append("    });")
        else:
            out.append("    wire::read_tagged_fields(r, unknown_tags, [](uint32_t, wire::Reader&) { return false; });")
        out.append("  }")
    out.append("  return r.ok();")
    out.append("}")
    out.append("")


def layout_comment(ctx, fields, depth, out):
    for f in fields:
        bits = ["v" + str(f.versions)]
        if not f.nullable.empty():
            bits.append("nullable v%s" % f.nullable)
        if not f.tagged.empty():
            bits.append("tag %d v%s" % (f.tag, f.tagged))
        if f.flexible is not ctx.msg.flexible:
            bits.append("flexible v%s" % f.flexible)
        out.append("//   %s%-*s %-28s %s" % ("  " * depth, max(1, 34 - 2 * depth), member_name(f),
                                           f.type, ", ".join(bits)))
        if f.is_struct and f.fields:
            layout_comment(ctx, f.fields, depth + 1, out)


def emit_message(msg, spec_name, ns="millrace::proto", inc="protocol/generated"):
    """Header and source of one message, in namespace `ns`, included as
    `inc`/<stem>.h. Outside millrace::proto the wire value types are brought
    in by using-declarations."""
    ctx = Ctx(msg)
    stem = file_stem(msg.name)
    h = []
    h.append("// Generated by tools/protocol-gen/generate.py from %s. Do not edit." % spec_name)
    h.append("//")
    h.append("// %s%s: versions %s, flexible (compact lengths + tagged fields) %s." % (
        msg.name, "" if msg.api_key is None else " (api key %d)" % msg.api_key,
        msg.valid, msg.flexible))
    h.append("// Wire layout, fields in order (fields absent from a version are not written;")
    h.append("// tagged fields go in the trailing tagged-field section of flexible versions):")
    for cname, cfields in msg.common.items():
        h.append("//   common struct %s:" % cname)
        layout_comment(ctx, cfields, 1, h)
    layout_comment(ctx, msg.fields, 0, h)
    h.append("#pragma once")
    h.append("")
    h.append("#include <cstdint>")
    h.append("#include <limits>")
    h.append("#include <optional>")
    h.append("#include <string>")
    h.append("#include <vector>")
    h.append("")
    h.append('#include "protocol/wire/reader.h"')
    h.append('#include "protocol/wire/types.h"')
    h.append('#include "protocol/wire/writer.h"')
    h.append("")
    h.append("namespace %s {" % ns)
    h.append("")
    if ns != "millrace::proto":
        h.append("using proto::Records;")
        h.append("using proto::UnknownTags;")
        h.append("using proto::Uuid;")
        h.append("")
    emit_struct_decl(ctx, msg.name, msg.fields, 0, h, top=True)
    h.append("}  // namespace %s" % ns)
    h.append("")

    c = []
    c.append("// Generated by tools/protocol-gen/generate.py from %s. Do not edit." % spec_name)
    c.append('#include "%s/%s.h"' % (inc, stem))
    c.append("")
    c.append('#include "protocol/wire/codec.h"')
    c.append("")
    c.append("namespace %s {" % ns)
    c.append("")
    for sd in walk_structs(msg):
        emit_struct_impl(ctx, sd, c, top=(sd.path == msg.name))
    c.append("}  // namespace %s" % ns)
    c.append("")
    return stem, "\n".join(h), "\n".join(c)
