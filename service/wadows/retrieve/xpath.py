"""XPath 1.0 over the PS3.19 Native DICOM Model of one object, for
RetrieveImagingDocumentSetInformation (PS3.18 2016e §6.4.3: the XPath "is applied to the Native
DICOM Model XML ... of the non-pixel data"), refused when it is not plain XPath 1.0 and bounded so
that one request cannot hold a worker for long.

Names. The NativeDICOM namespace is bound to the prefix ``n`` (``PREFIX``):
``//n:DicomAttribute[@keyword='PatientName']``. Because PS3.18's own examples and most clients
write names without a prefix, an element name test with no prefix means the NativeDICOM element
of that name: ``//DicomAttribute[@keyword='PatientName']`` is rewritten, token by token, to the
first form before evaluation. Attribute names (``@tag``, ``@vr``, ``@keyword``, ``@number``,
``@privateCreator``) have no namespace in PS3.19 and are left alone; any other prefix is refused.

What is refused (``XPathRefused``, urn:dicom:wado:0012 with the reason):
- text that is not an XPath 1.0 expression, or longer than ``max_length`` characters;
- variables (``$x``) and any function outside the 27 of XPath 1.0 §4 (so no ``document()``, no
  EXSLT or lxml extension, no prefixed function): an expression can only read this document,
  which holds no pixel data and, with Anonymize, only the de-identified header;
- an expression whose worst-case cost on this document is over ``max_cost`` (below), or a step
  that scans the whole document nested inside two predicates (cost grows with the cube).

Why bound inputs: lxml (libxml2) cannot interrupt an XPath evaluation, so the bound is what goes
in. The document is a header (bulk data is only referenced) and the expression is short; the
remaining risk is an expression whose predicates re-scan the document for every node. A
"global" step inside a predicate (an absolute path, or the following/preceding/sibling/parent/
ancestor axes, or ``..``) may visit every node for every context node, N x N; everything else
stays within the context node's subtree. The estimate N*N*(global steps inside predicates) +
N*(steps) must stay under ``max_cost``; otherwise the answer is urn:dicom:wado:0005.

What an answer holds, per XPath 1.0 result kind (§1, §3.1):
- node-set: one item per node in document order. An element is a copy of itself, its subtree
  included, in the NativeDICOM namespace (it serialises with the namespace declared); an
  attribute or text node is its string value; a namespace node is its URI; the root node
  (``/``) is given as the NativeDicomModel element, its only child;
- number: its XPath string form (§4.2 string(): ``3``, ``0.5``, ``NaN``, ``Infinity``);
- string: itself; boolean: ``true`` or ``false``.
An empty node-set is an empty list. ``max_items`` and ``max_bytes`` (serialised size) bound an
answer: over either, urn:dicom:wado:0005.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from lxml import etree

from ..dicom.nativexml import NAMESPACE
from .errors import ErrorCode

PREFIX = "n"
NAMESPACES = {PREFIX: NAMESPACE}

CORE_FUNCTIONS = frozenset({
    "last", "position", "count", "id", "local-name", "namespace-uri", "name",            # §4.1
    "string", "concat", "starts-with", "contains", "substring-before", "substring-after",  # §4.2
    "substring", "string-length", "normalize-space", "translate",
    "boolean", "not", "true", "false", "lang",                                           # §4.3
    "number", "sum", "floor", "ceiling", "round",                                         # §4.4
})
_NODE_TYPES = frozenset({"comment", "text", "processing-instruction", "node"})
_AXES = frozenset({"ancestor", "ancestor-or-self", "attribute", "child", "descendant",
                   "descendant-or-self", "following", "following-sibling", "namespace", "parent",
                   "preceding", "preceding-sibling", "self"})
_GLOBAL_AXES = frozenset({"ancestor", "ancestor-or-self", "following", "following-sibling",
                          "parent", "preceding", "preceding-sibling"})
_OPERATOR_NAMES = frozenset({"and", "or", "mod", "div"})
_OPERATORS = frozenset({"/", "//", "|", "+", "-", "=", "!=", "<", "<=", ">", ">=", "*"})

_NCNAME = r"[A-Za-z_\u00c0-\ufffd][\w.\-\u00b7\u00c0-\ufffd]*"
_TOKEN = re.compile(rf"""
    (?P<space>\s+)
  | (?P<literal>"[^"]*"|'[^']*')
  | (?P<number>\d+(?:\.\d*)?|\.\d+)
  | (?P<punct>//|::|\.\.|!=|<=|>=|[/()\[\].@,|+\-=<>*])
  | (?P<variable>\$)
  | (?P<name>{_NCNAME}(?::(?!:)(?:{_NCNAME}|\*))?)
""", re.VERBOSE)


class XPathRefused(Exception):
    """An expression or answer refused with the RegistryError code it maps to (PS3.18 §6.4.3;
    0012 invalid parameter value, 0005 size exceeds limits). ``position`` is the expression's
    1-based place in the request when known. The reason never quotes the document."""

    def __init__(self, code: ErrorCode, reason: str, position: int | None = None) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.position = position


@dataclass(frozen=True)
class XPathLimits:
    max_length: int = 1024          # characters of one expression
    max_expressions: int = 32       # expressions in one request
    max_items: int = 10_000         # items in one answer
    max_bytes: int = 1 << 20        # serialised size of one answer
    max_cost: int = 50_000_000      # node visits, estimated (module docstring)
    max_nesting: int = 8            # predicates inside predicates


def _refuse(reason: str, code: ErrorCode = ErrorCode.INVALID_PARAMETER_VALUE) -> XPathRefused:
    return XPathRefused(code, reason)


def _tokens(expression: str) -> list[tuple[str, str]]:
    out, at = [], 0
    while at < len(expression):
        match = _TOKEN.match(expression, at)
        if match is None:
            raise _refuse(f"not an XPath 1.0 expression (unexpected character at {at + 1})")
        kind = match.lastgroup
        if kind == "variable":
            raise _refuse("variables are not allowed")
        if kind != "space":
            out.append((kind, match.group()))
        at = match.end()
    return out


@dataclass(frozen=True)
class CompiledXPath:
    text: str                        # as the client wrote it
    rewritten: str                   # with the NativeDICOM prefix on unprefixed element names
    steps: int
    global_in_predicates: int
    _xpath: etree.XPath
    may_select_root: bool            # False when the last step is a name test (_may_select_root)
    _count: etree.XPath              # lxml leaves the root node out of node-sets; count() does not

    def cost(self, nodes: int) -> int:
        """Node visits, worst case, counting the second (count) pass of a node-set answer."""
        return 2 * (nodes * nodes * self.global_in_predicates + nodes * max(self.steps, 1))


def compile_xpath(expression: str, limits: XPathLimits = XPathLimits()) -> CompiledXPath:
    """Check and compile one expression (XPath 1.0 §3.7 lexical rules), or raise XPathRefused."""
    if not isinstance(expression, str) or not expression.strip():
        raise _refuse("the expression is empty")
    if len(expression) > limits.max_length:
        raise _refuse(f"the expression is longer than {limits.max_length} characters")
    tokens = _tokens(expression)
    out: list[str] = []
    depth, max_depth, steps, global_in_predicates = 0, 0, 0, 0
    prev: tuple[str, str] | None = None
    brackets: list[str] = []
    name_tests: set[int] = set()  # positions in out of the name tests (element, attribute, *)
    for i, (kind, text) in enumerate(tokens):
        nxt = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        # §3.7: after these a name is a name test, else it is an operator name.
        operand_expected = prev is None or prev[1] in ("@", "::", "(", "[", ",") or (
            prev[0] == "punct" and prev[1] in _OPERATORS) or (prev[0] == "opname")
        if kind == "punct":
            if text in ("[", "("):
                brackets.append(text)
                depth += text == "["
                max_depth = max(max_depth, depth)
            elif text in ("]", ")"):
                if not brackets or brackets.pop() != ("[" if text == "]" else "("):
                    raise _refuse("not an XPath 1.0 expression (unbalanced brackets)")
                depth -= text == "]"
            elif text in ("/", "//"):
                steps += 1
                if depth and operand_expected:
                    global_in_predicates += 1  # an absolute path inside a predicate
                    if depth >= 2:
                        raise _refuse("a document-wide step nested in two predicates is not allowed")
            elif text == ".." and depth:
                global_in_predicates += 1
            if text == "*" and not operand_expected:
                kind = "op"
            elif text == "*":
                name_tests.add(len(out))
            out.append(text)
        elif kind == "name":
            if not operand_expected and text in _OPERATOR_NAMES:
                kind = "opname"
                out.append(text)
            elif nxt == "(":
                if text in _NODE_TYPES:
                    out.append(text)
                elif text in CORE_FUNCTIONS:
                    out.append(text)
                else:
                    raise _refuse(f"function {text[:40]!r} is not an XPath 1.0 core function")
            elif nxt == "::":
                if text not in _AXES:
                    raise _refuse(f"{text[:40]!r} is not an XPath axis")
                if text in _GLOBAL_AXES and depth:
                    global_in_predicates += 1
                    if depth >= 2:
                        raise _refuse("a document-wide step nested in two predicates is not allowed")
                out.append(text)
            else:
                on_attribute = prev is not None and (prev[1] == "@" or (
                    prev[1] == "::" and i >= 2 and tokens[i - 2][1] in ("attribute", "namespace")))
                if ":" in text and text.split(":", 1)[0] != PREFIX:
                    raise _refuse(f"only the prefix {PREFIX!r} is bound (to the NativeDICOM namespace)")
                name_tests.add(len(out))
                if ":" in text or on_attribute:
                    out.append(text)
                else:
                    out.append(f"{PREFIX}:{text}")
                steps += 1
        else:
            out.append(text)
        prev = (kind, text)
    if brackets:
        raise _refuse("not an XPath 1.0 expression (unbalanced brackets)")
    if max_depth > limits.max_nesting:
        raise _refuse(f"predicates are nested more than {limits.max_nesting} deep")
    rewritten = " ".join(out)
    try:
        compiled = etree.XPath(rewritten, namespaces=NAMESPACES, regexp=False, smart_strings=False)
    except etree.XPathSyntaxError:
        raise _refuse("not an XPath 1.0 expression") from None
    return CompiledXPath(expression, rewritten, steps, global_in_predicates, compiled, _may_select_root(out, name_tests),
                         etree.XPath(f"count({rewritten})", namespaces=NAMESPACES, regexp=False))


def _may_select_root(out: list[str], name_tests: set[int]) -> bool:
    """Whether the result may hold the root node, which lxml leaves out of node-sets (so evaluate()
    counts to find it). The root node is neither an element, an attribute nor a namespace node, so
    a path whose last step (past its predicates) is a name test never selects it; anything else,
    a union included, is counted."""
    if "|" in out:
        return True
    at, depth = len(out) - 1, 0
    while at >= 0 and (depth or out[at] == "]"):
        depth += {"]": 1, "[": -1}.get(out[at], 0)
        at -= 1
    return at not in name_tests


def compile_all(expressions: Sequence[str], limits: XPathLimits = XPathLimits()) -> list[CompiledXPath]:
    """A request's list, checked before any document is read; a refusal carries its position."""
    if len(expressions) > limits.max_expressions:
        # Positioned at the first expression past the limit, like any other refused expression.
        raise XPathRefused(ErrorCode.INVALID_PARAMETER_VALUE,
                           f"more than {limits.max_expressions} XPath expressions", limits.max_expressions + 1)
    out = []
    for position, expression in enumerate(expressions, start=1):
        try:
            out.append(compile_xpath(expression, limits))
        except XPathRefused as refused:
            refused.position = position
            raise
    return out


def _number_text(value: float) -> str:
    """XPath 1.0 §4.2 string() of a number: no exponent, integers without a fraction."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    if value == int(value):
        return str(int(value))
    return np.format_float_positional(value, unique=True, trim="-")


ResultItem = etree._Element | str


def evaluate(native_root: etree._Element, expression: str | CompiledXPath,
             limits: XPathLimits = XPathLimits(), nodes: int | None = None) -> list[ResultItem]:
    """The answer of one expression on one document (module docstring for each result kind).
    ``nodes`` is the document's node count when the caller already knows it (a remembered model)."""
    return evaluate_sized(native_root, expression, limits, nodes)[0]


def evaluate_sized(native_root: etree._Element, expression: str | CompiledXPath,
                   limits: XPathLimits = XPathLimits(), nodes: int | None = None) -> tuple[list[ResultItem], int]:
    """``evaluate``'s answer and its serialised size in bytes (what ``max_bytes`` bounds), measured
    once here so that a caller bounding a whole response need not serialise the answer again."""
    compiled = expression if isinstance(expression, CompiledXPath) else compile_xpath(expression, limits)
    if native_root.getparent() is not None:
        raise ValueError("evaluate() needs the NativeDicomModel root of its own document")
    if nodes is None:
        nodes = sum(1 for _ in native_root.iter())
    if compiled.cost(nodes) > limits.max_cost:
        raise _refuse("the expression is too costly for this document", ErrorCode.SIZE_EXCEEDS_LIMITS)
    try:
        result = compiled._xpath(native_root)
    except etree.XPathError:
        raise _refuse("the expression cannot be evaluated on this document") from None
    if isinstance(result, (bool, float)):  # a few characters: not bounded
        text = ("true" if result else "false") if isinstance(result, bool) else _number_text(result)
        return [text], len(text)
    if isinstance(result, str):
        return _bounded([result], limits)
    if not isinstance(result, list):
        raise _refuse("the expression cannot be evaluated on this document")
    if len(result) > limits.max_items:
        raise _refuse(f"the answer has more than {limits.max_items} items", ErrorCode.SIZE_EXCEEDS_LIMITS)
    if compiled.may_select_root and compiled._count(native_root) == len(result) + 1:
        result = [native_root, *result]  # the root node, first in document order
    items: list[ResultItem] = []
    size = 0
    for node in result:
        if isinstance(node, etree._ElementTree):
            node = node.getroot()
        if isinstance(node, etree._Element):
            size += len(etree.tostring(node))  # before copying: the bound also bounds the copies
            item: ResultItem = node
        elif isinstance(node, tuple):  # a namespace node: (prefix, uri)
            item = str(node[1])
        else:
            item = str(node)
        if not isinstance(item, etree._Element):
            size += len(item.encode())
        if size > limits.max_bytes:
            raise _too_big(limits)
        items.append(copy.deepcopy(item) if isinstance(item, etree._Element) else item)
    return items, size


def _too_big(limits: XPathLimits) -> XPathRefused:
    return _refuse(f"the answer is larger than {limits.max_bytes} bytes", ErrorCode.SIZE_EXCEEDS_LIMITS)


def _bounded(items: list[str], limits: XPathLimits) -> tuple[list[ResultItem], int]:
    size = sum(len(item.encode()) for item in items)
    if size > limits.max_bytes:
        raise _too_big(limits)
    return list(items), size
