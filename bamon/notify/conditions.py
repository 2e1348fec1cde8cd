"""The condition language of alert rules (and later recovery actions): small, typed, never eval'ed.

    status == 'FAILED'                     consecutive_failures >= 3 and severity == 'critical'
    error_rate > 0.1                       'timeout' in output or failure_reason in ['oom-kill', 'memory']
    not ('canary' in tags)                 duration > 5

A hand-written tokenizer and recursive-descent parser build a tree of small node classes; a type
check runs on the tree at `bamon config validate` time (a number compared with text is an error
there, with the column and a hint, not a surprise at 3 a.m.); evaluation walks the same tree
against a mapping of field values. No Python `eval`, `compile` or attribute access anywhere.

Fields live in one explicit registry, FIELDS: later features add theirs with `register_field`
(recovery actions, `duration_anomaly`, `flapping`) and every rule can use them at once.
"""

from __future__ import annotations

import enum
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


class Type(enum.Enum):
    NUMBER = "a number"
    TEXT = "text"
    BOOL = "true/false"
    TEXT_LIST = "a list of text"
    NUMBER_LIST = "a list of numbers"


@dataclass(frozen=True)
class Field:
    type: Type
    doc: str
    example: str  # a literal of the right type, for hints


FIELDS: dict[str, Field] = {}


def register_field(name: str, type_: Type, doc: str, example: str) -> None:
    """Make `name` usable in conditions; the value comes from the evaluator's mapping."""
    FIELDS[name] = Field(type_, doc, example)


for _name, _type, _doc, _example in (
    ("status", Type.TEXT, "OK, FAILED, WARNING or UNKNOWN", "'FAILED'"),
    ("exit_code", Type.NUMBER, "the command's exit status (-1 when killed by a signal)", "2"),
    ("failure_reason", Type.TEXT, "systemd's Result: exit-code, timeout, oom-kill, memory, signal, …",
     "'timeout'"),
    ("duration", Type.NUMBER, "seconds the run took", "5"),
    ("consecutive_failures", Type.NUMBER, "failures in a row, this one included", "3"),
    ("error_rate", Type.NUMBER, "failed runs / all runs within the rule's window (0 to 1)", "0.1"),
    ("output", Type.TEXT, "the run's last output lines, joined by newlines", "'timeout'"),
    ("severity", Type.TEXT, "the check's severity: info, warning or critical", "'critical'"),
    ("tags", Type.TEXT_LIST, "the check's tags", "'prod'"),
    # from bamon.history.analytics.rule_values (methods: docs/analytics.md)
    ("duration_anomaly", Type.BOOL, "the run was anomalously slow for this check (robust statistics)", "true"),
    ("flapping", Type.BOOL, "the check changes state too often to trust (Nagios-style flap detection)", "true"),
):
    register_field(_name, _type, _doc, _example)


class ConditionError(ValueError):
    """A condition that does not parse or does not type-check; `column` is 1-based."""

    def __init__(self, message: str, column: int, hint: str) -> None:
        super().__init__(f"{message} (column {column})")
        self.message, self.column, self.hint = message, column, hint


# ---- tokens ------------------------------------------------------------------------------------
_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<text>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,)
""", re.VERBOSE)
_KEYWORDS = {"and", "or", "not", "in", "true", "false"}


@dataclass(frozen=True)
class Token:
    kind: str  # number, text, name, op, keyword, end
    text: str
    column: int


def tokenize(source: str) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if match is None:
            raise ConditionError(f"unexpected {source[pos]!r}", pos + 1,
                                 "use field names, numbers, 'quoted text', == != < <= > >=, and/or/not, in")
        kind = match.lastgroup or ""
        if kind != "space":
            text = match.group()
            tokens.append(Token("keyword" if kind == "name" and text in _KEYWORDS else kind, text, pos + 1))
        pos = match.end()
    tokens.append(Token("end", "", len(source) + 1))
    return tokens


# ---- the tree ----------------------------------------------------------------------------------
class Node:
    column: int

    def check(self) -> Type:
        """The node's type; raises ConditionError when its parts do not fit together."""
        raise NotImplementedError

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        raise NotImplementedError

    def fields(self) -> set[str]:
        return set()


@dataclass(frozen=True)
class Literal(Node):
    value: Any
    type: Type
    column: int

    def check(self) -> Type:
        return self.type

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        return self.value


@dataclass(frozen=True)
class FieldRef(Node):
    name: str
    column: int

    def check(self) -> Type:
        return FIELDS[self.name].type

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        return values[self.name]

    def fields(self) -> set[str]:
        return {self.name}


@dataclass(frozen=True)
class ListLit(Node):
    items: tuple[Literal, ...]
    column: int

    def check(self) -> Type:
        kinds = {item.type for item in self.items}
        if kinds <= {Type.TEXT}:
            return Type.TEXT_LIST
        if kinds == {Type.NUMBER}:
            return Type.NUMBER_LIST
        raise ConditionError("a list mixes kinds of values", self.column, "use only 'text' or only numbers in a list")

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        return [item.value for item in self.items]


def _contains(left: Any, right: Any) -> bool:
    return left in right


# operator → (function, the type pairs it accepts as (left, right))
_ORDER = {(Type.NUMBER, Type.NUMBER), (Type.TEXT, Type.TEXT)}
_EQUAL = _ORDER | {(Type.BOOL, Type.BOOL)}
_IN = {(Type.TEXT, Type.TEXT), (Type.TEXT, Type.TEXT_LIST), (Type.NUMBER, Type.NUMBER_LIST)}
_COMPARE: dict[str, tuple[Callable[[Any, Any], Any], set[tuple[Type, Type]]]] = {
    "==": (operator.eq, _EQUAL), "!=": (operator.ne, _EQUAL),
    "<": (operator.lt, _ORDER), "<=": (operator.le, _ORDER),
    ">": (operator.gt, _ORDER), ">=": (operator.ge, _ORDER),
    "in": (_contains, _IN), "not in": (lambda a, b: not _contains(a, b), _IN),
}


@dataclass(frozen=True)
class Compare(Node):
    op: str
    left: Node
    right: Node
    column: int

    def check(self) -> Type:
        pair = (self.left.check(), self.right.check())
        if pair not in _COMPARE[self.op][1]:
            raise ConditionError(f"{self.op!r} cannot compare {pair[0].value} with {pair[1].value}",
                                 self.column, _compare_hint(self.op, self.left, self.right))
        return Type.BOOL

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        return bool(_COMPARE[self.op][0](self.left.evaluate(values), self.right.evaluate(values)))

    def fields(self) -> set[str]:
        return self.left.fields() | self.right.fields()


def _compare_hint(op: str, left: Node, right: Node) -> str:
    field = left if isinstance(left, FieldRef) else right if isinstance(right, FieldRef) else None
    if op in ("in", "not in"):
        return "in tests text in text ('timeout' in output) or a value in a list (failure_reason in ['timeout'])"
    if field is not None:
        spec = FIELDS[field.name]
        if spec.type in (Type.TEXT_LIST, Type.NUMBER_LIST):
            return f"{field.name} is {spec.type.value}: test membership, e.g. {spec.example} in {field.name}"
        return f"{field.name} is {spec.type.value}: compare it with e.g. {spec.example}"
    return "compare numbers with numbers and 'text' with 'text'"


@dataclass(frozen=True)
class Logic(Node):
    op: str  # and | or
    parts: tuple[Node, ...]
    column: int

    def check(self) -> Type:
        for part in self.parts:
            if part.check() is not Type.BOOL:
                raise ConditionError(f"{self.op!r} needs true/false on both sides", part.column,
                                     "compare the value, e.g. consecutive_failures >= 3")
        return Type.BOOL

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        combine = all if self.op == "and" else any
        return combine(part.evaluate(values) for part in self.parts)  # short-circuits: lazy fields stay unread

    def fields(self) -> set[str]:
        return set().union(*(p.fields() for p in self.parts))


@dataclass(frozen=True)
class Not(Node):
    operand: Node
    column: int

    def check(self) -> Type:
        if self.operand.check() is not Type.BOOL:
            raise ConditionError("'not' needs true/false", self.column, "e.g. not ('canary' in tags)")
        return Type.BOOL

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        return not self.operand.evaluate(values)

    def fields(self) -> set[str]:
        return self.operand.fields()


# ---- the parser ----------------------------------------------------------------------------------
class _Parser:
    """condition := or;  or := and ('or' and)*;  and := not ('and' not)*;  not := 'not' not | compare;
    compare := operand [(== != < <= > >= in | not in) operand];  operand := literal | field | list | '(' or ')'"""

    def __init__(self, source: str) -> None:
        self.tokens = tokenize(source)
        self.pos = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.pos]

    def take(self, *texts: str) -> Token | None:
        if self.token.text in texts and self.token.kind in ("op", "keyword"):
            self.pos += 1
            return self.tokens[self.pos - 1]
        return None

    def expect(self, text: str) -> None:
        if self.take(text) is None:
            raise ConditionError(f"expected {text!r}, found {self.token.text or 'the end'}", self.token.column,
                                 "check the brackets and quotes")

    def logic(self, op: str, inner: Callable[[], Node]) -> Node:
        first = inner()
        parts = [first]
        while self.take(op):
            parts.append(inner())
        return parts[0] if len(parts) == 1 else Logic(op, tuple(parts), first.column)

    def or_(self) -> Node:
        return self.logic("or", self.and_)

    def and_(self) -> Node:
        return self.logic("and", self.not_)

    def not_(self) -> Node:
        token = self.token
        if self.take("not"):
            return Not(self.not_(), token.column)
        return self.compare()

    def compare(self) -> Node:
        left = self.operand()
        token = self.token
        if token.kind == "keyword" and token.text == "not" and self.tokens[self.pos + 1].text == "in":
            self.pos += 2
            return Compare("not in", left, self.operand(), token.column)
        if self.take(*(op for op in _COMPARE if op != "not in")):
            return Compare(token.text, left, self.operand(), token.column)
        return left

    def operand(self) -> Node:
        token = self.token
        self.pos += 1
        if token.kind == "number":
            return Literal(float(token.text) if "." in token.text else int(token.text), Type.NUMBER, token.column)
        if token.kind == "text":
            return Literal(_unquote(token.text), Type.TEXT, token.column)
        if token.kind == "keyword" and token.text in ("true", "false"):
            return Literal(token.text == "true", Type.BOOL, token.column)
        if token.kind == "name":
            if token.text not in FIELDS:
                raise ConditionError(f"unknown field {token.text!r}", token.column, _field_hint(token.text))
            return FieldRef(token.text, token.column)
        if token.text == "[":
            return self.list_(token)
        if token.text == "(":
            inner = self.or_()
            self.expect(")")
            return inner
        self.pos -= 1
        raise ConditionError(f"expected a value, found {token.text or 'the end'}", token.column,
                             "e.g. status == 'FAILED' or consecutive_failures >= 3")

    def list_(self, opening: Token) -> Node:
        items: list[Literal] = []
        while not self.take("]"):
            if items:
                self.expect(",")
            item = self.operand()
            if not isinstance(item, Literal):
                raise ConditionError("lists hold only literal values", item.column, "e.g. ['timeout', 'oom-kill']")
            items.append(item)
        return ListLit(tuple(items), opening.column)


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def _field_hint(word: str) -> str:
    import difflib

    close = difflib.get_close_matches(word, list(FIELDS), n=1)
    prefix = f"did you mean {close[0]!r}? " if close else ""
    return prefix + "fields: " + ", ".join(FIELDS) + "; quote text: 'FAILED'"


@dataclass(frozen=True)
class Condition:
    """A parsed, type-checked condition."""

    source: str
    tree: Node

    def __call__(self, values: Mapping[str, Any]) -> bool:
        return bool(self.tree.evaluate(values))

    @property
    def fields(self) -> set[str]:
        return self.tree.fields()


def parse(source: str) -> Condition:
    """Parse and type-check; raises ConditionError (message, 1-based column, hint)."""
    parser = _Parser(source)
    tree = parser.or_()
    if parser.token.kind != "end":
        raise ConditionError(f"unexpected {parser.token.text!r}", parser.token.column,
                             "join conditions with and / or")
    if tree.check() is not Type.BOOL:
        raise ConditionError("the condition is not a yes/no question", tree.column,
                             "compare the value, e.g. duration > 5 or status == 'FAILED'")
    return Condition(source, tree)


ALWAYS = Condition("true", Literal(True, Type.BOOL, 1))
