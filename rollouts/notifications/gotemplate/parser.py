"""The parser of Go's text/template: the same grammar, checks and error messages as text/template/parse.

What Go parses but this engine does not execute (``define``, ``template``, ``block``, complex numbers) is
rejected here with ``Unsupported`` naming the construct and its line:column, never silently misrendered.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rollouts.notifications.gotemplate.errors import ParseError, Unsupported, location
from rollouts.notifications.gotemplate.lexer import Item, Lexer, T
from rollouts.notifications.gotemplate.nodes import (
    ActionNode,
    BoolNode,
    BranchNode,
    BreakNode,
    ChainNode,
    CommandNode,
    CommentNode,
    ContinueNode,
    DotNode,
    ElseNode,
    EndNode,
    FieldNode,
    IdentifierNode,
    ListNode,
    NilNode,
    NumberNode,
    PipeNode,
    StringNode,
    TextNode,
    VariableNode,
)

MAX_STACK_DEPTH = 10000
_OPERAND_TYPES = frozenset({
    T.BOOL, T.CHAR_CONSTANT, T.COMPLEX, T.DOT, T.FIELD, T.IDENTIFIER, T.NUMBER, T.NIL, T.RAW_STRING, T.STRING,
    T.VARIABLE, T.LEFT_PAREN,
})


class Parser:
    def __init__(self, name: str, text: str, *, has_function: Callable[[str], bool],
                 unsupported_function: Callable[[str], str | None] = lambda _: None) -> None:
        self.name = name
        self.text = text
        self.has_function = has_function
        self.unsupported_function = unsupported_function
        self.lex = Lexer(text, break_ok=not has_function("break"), continue_ok=not has_function("continue"))
        self.token: list[Item] = [Item(T.EOF, 0, "", 1)] * 3
        self.peek_count = 0
        self.vars = ["$"]
        self.action_line = 0
        self.range_depth = 0
        self.stack_depth = 0

    # -- token plumbing (three-token lookahead, as Go's) -------------------------------------------------

    def next(self) -> Item:
        if self.peek_count > 0:
            self.peek_count -= 1
        else:
            self.token[0] = self.lex.next_item()
        return self.token[self.peek_count]

    def backup(self) -> None:
        self.peek_count += 1

    def backup2(self, t1: Item) -> None:
        self.token[1] = t1
        self.peek_count = 2

    def backup3(self, t2: Item, t1: Item) -> None:
        self.token[1] = t1
        self.token[2] = t2
        self.peek_count = 3

    def peek(self) -> Item:
        if self.peek_count > 0:
            return self.token[self.peek_count - 1]
        self.peek_count = 1
        self.token[0] = self.lex.next_item()
        return self.token[0]

    def next_non_space(self) -> Item:
        while True:
            token = self.next()
            if token.typ is not T.SPACE:
                return token

    def peek_non_space(self) -> Item:
        token = self.next_non_space()
        self.backup()
        return token

    # -- errors ---------------------------------------------------------------------------------------

    def errorf(self, message: str) -> ParseError:
        return ParseError(f"template: {self.name}:{self.token[0].line}: {message}")

    def unsupported(self, pos: int, message: str) -> Unsupported:
        line, col = location(self.text, pos)
        return Unsupported(f"template: {self.name}:{line}:{col}: {message}")

    def expect(self, expected: T, context: str) -> Item:
        token = self.next_non_space()
        if token.typ is not expected:
            raise self.unexpected(token, context)
        return token

    def unexpected(self, token: Item, context: str) -> ParseError:
        if token.typ is T.ERROR:
            extra = ""
            if self.action_line != 0 and self.action_line != token.line:
                extra = f" in action started at {self.name}:{self.action_line}"
                if token.val.endswith(" action"):
                    extra = extra[len(" in action"):]
            return self.errorf(f"{token}{extra}")
        return self.errorf(f"unexpected {token} in {context}")

    # -- grammar ----------------------------------------------------------------------------------------

    def parse(self) -> ListNode:
        root = ListNode(self.peek().pos)
        while self.peek().typ is not T.EOF:
            if self.peek().typ is T.LEFT_DELIM:
                delim = self.next()
                token = self.next_non_space()
                if token.typ is T.DEFINE:
                    raise self.unsupported(token.pos, "{{define}} is not supported in notification templates")
                self.backup2(delim)
            node = self.text_or_action()
            if isinstance(node, (EndNode, ElseNode)):
                raise self.errorf(f"unexpected {node}")
            root.nodes.append(node)
        return root

    def item_list(self) -> tuple[ListNode, object]:
        lst = ListNode(self.peek_non_space().pos)
        while self.peek_non_space().typ is not T.EOF:
            node = self.text_or_action()
            if isinstance(node, (EndNode, ElseNode)):
                return lst, node
            lst.nodes.append(node)
        raise self.errorf("unexpected EOF")

    def text_or_action(self) -> object:
        token = self.next_non_space()
        if token.typ is T.TEXT:
            return TextNode(token.pos, token.val)
        if token.typ is T.LEFT_DELIM:
            self.action_line = token.line
            try:
                return self.action()
            finally:
                self.action_line = 0
        if token.typ is T.COMMENT:
            return CommentNode(token.pos, token.val)
        raise self.unexpected(token, "input")

    def action(self) -> object:
        token = self.next_non_space()
        if token.typ in (T.BLOCK, T.TEMPLATE):
            raise self.unsupported(token.pos, f"{{{{{token.val}}}}} is not supported in notification templates")
        if token.typ is T.BREAK:
            return self.branch_keyword(token, BreakNode, "{{break}}")
        if token.typ is T.CONTINUE:
            return self.branch_keyword(token, ContinueNode, "{{continue}}")
        if token.typ is T.ELSE:
            return self.else_control()
        if token.typ is T.END:
            return EndNode(self.expect(T.RIGHT_DELIM, "end").pos)
        if token.typ in (T.IF, T.RANGE, T.WITH):
            return self.branch(token.val)
        self.backup()
        token = self.peek()
        return ActionNode(token.pos, token.line, self.pipeline("command", T.RIGHT_DELIM))

    def branch_keyword(self, token: Item, cls: type, text: str) -> object:
        nxt = self.next_non_space()
        if nxt.typ is not T.RIGHT_DELIM:
            raise self.unexpected(nxt, text)
        if self.range_depth == 0:
            raise self.errorf(f"{text} outside {{{{range}}}}")
        return cls(token.pos, token.line)

    def pipeline(self, context: str, end: T) -> PipeNode:
        token = self.peek_non_space()
        pipe = PipeNode(token.pos, token.line)
        self.declarations(pipe, context)
        while True:
            token = self.next_non_space()
            if token.typ is end:
                self.check_pipeline(pipe, context)
                return pipe
            if token.typ in _OPERAND_TYPES:
                self.backup()
                pipe.cmds.append(self.command())
            else:
                raise self.unexpected(token, context)

    def declarations(self, pipe: PipeNode, context: str) -> None:
        while True:
            v = self.peek_non_space()
            if v.typ is not T.VARIABLE:
                return
            self.next()
            after = self.peek()
            nxt = self.peek_non_space()
            if nxt.typ in (T.ASSIGN, T.DECLARE):
                pipe.is_assign = nxt.typ is T.ASSIGN
                self.next_non_space()
                pipe.decl.append(VariableNode(v.pos, v.val.split(".")))
                self.vars.append(v.val)
                return
            if nxt.typ is T.CHAR and nxt.val == ",":
                self.next_non_space()
                pipe.decl.append(VariableNode(v.pos, v.val.split(".")))
                self.vars.append(v.val)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().typ in (T.VARIABLE, T.RIGHT_DELIM, T.RIGHT_PAREN):
                        continue
                    raise self.errorf("range can only initialize variables")
                raise self.errorf(f"too many declarations in {context}")
            if after.typ is T.SPACE:
                self.backup3(v, after)
            else:
                self.backup2(v)
            return

    def check_pipeline(self, pipe: PipeNode, context: str) -> None:
        if not pipe.cmds:
            raise self.errorf(f"missing value for {context}")
        for i, c in enumerate(pipe.cmds[1:]):
            if isinstance(c.args[0], (BoolNode, DotNode, NilNode, NumberNode, StringNode)):
                raise self.errorf(f"non executable command in pipeline stage {i + 2}")

    def branch(self, context: str) -> BranchNode:
        mark = len(self.vars)
        try:
            pipe = self.pipeline(context, T.RIGHT_DELIM)
            if context == "range":
                self.range_depth += 1
            lst, nxt = self.item_list()
            if context == "range":
                self.range_depth -= 1
            else_list: ListNode | None = None
            if isinstance(nxt, ElseNode):
                if context in ("if", "with") and self.peek().typ is (T.IF if context == "if" else T.WITH):
                    self.next()
                    else_list = ListNode(nxt.pos)
                    else_list.nodes.append(self.branch(context))
                else:
                    else_list, end = self.item_list()
                    if not isinstance(end, EndNode):
                        raise self.errorf(f"expected end; found {end}")
            return BranchNode(context, pipe.pos, pipe.line, pipe, lst, else_list)
        finally:
            del self.vars[mark:]

    def else_control(self) -> ElseNode:
        peek = self.peek_non_space()
        if peek.typ in (T.IF, T.WITH):
            return ElseNode(peek.pos, peek.line)
        token = self.expect(T.RIGHT_DELIM, "else")
        return ElseNode(token.pos, token.line)

    def command(self) -> CommandNode:
        cmd = CommandNode(self.peek_non_space().pos)
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            token = self.next()
            if token.typ is T.SPACE:
                continue
            if token.typ in (T.RIGHT_DELIM, T.RIGHT_PAREN):
                self.backup()
            elif token.typ is not T.PIPE:
                raise self.unexpected(token, "operand")
            break
        if not cmd.args:
            raise self.errorf("empty command")
        return cmd

    def operand(self) -> object | None:
        node = self.term()
        if node is None:
            return None
        if self.peek().typ is T.FIELD:
            chain = ChainNode(self.peek().pos, node)
            while self.peek().typ is T.FIELD:
                chain.field.append(self.next().val[1:])
            if isinstance(node, FieldNode):
                return FieldNode(chain.pos, [*node.ident, *chain.field])
            if isinstance(node, VariableNode):
                return VariableNode(chain.pos, [*node.ident, *chain.field])
            if isinstance(node, (BoolNode, StringNode, NumberNode, NilNode, DotNode)):
                raise self.errorf(f"unexpected . after term {_go_quote(str(node))}")
            return chain
        return node

    def term(self) -> object | None:
        token = self.next_non_space()
        typ = token.typ
        if typ is T.IDENTIFIER:
            if not self.has_function(token.val):
                why = self.unsupported_function(token.val)
                if why is not None:
                    raise self.unsupported(token.pos, why)
                raise self.errorf(f"function {_go_quote(token.val)} not defined")
            return IdentifierNode(token.pos, token.val)
        if typ is T.DOT:
            return DotNode(token.pos)
        if typ is T.NIL:
            return NilNode(token.pos)
        if typ is T.VARIABLE:
            return self.use_var(token)
        if typ is T.FIELD:
            return FieldNode(token.pos, token.val[1:].split("."))
        if typ is T.BOOL:
            return BoolNode(token.pos, token.val == "true")
        if typ in (T.CHAR_CONSTANT, T.NUMBER, T.COMPLEX):
            return self.number(token)
        if typ is T.LEFT_PAREN:
            if self.stack_depth >= MAX_STACK_DEPTH:
                raise self.errorf("max expression depth exceeded")
            self.stack_depth += 1
            try:
                return self.pipeline("parenthesized pipeline", T.RIGHT_PAREN)
            finally:
                self.stack_depth -= 1
        if typ in (T.STRING, T.RAW_STRING):
            return StringNode(token.pos, token.val, self.unquote(token.val))
        self.backup()
        return None

    def use_var(self, token: Item) -> VariableNode:
        node = VariableNode(token.pos, token.val.split("."))
        if node.ident[0] not in self.vars:
            raise self.errorf(f"undefined variable {_go_quote(node.ident[0])}")
        return node

    def unquote(self, quoted: str) -> str:
        try:
            return go_unquote(quoted)
        except ValueError as exc:
            raise self.errorf(str(exc)) from None

    def number(self, token: Item) -> NumberNode:
        if token.typ is T.COMPLEX or token.val.endswith("i"):
            raise self.unsupported(token.pos, f"complex number {token.val} is not supported")
        node = NumberNode(token.pos, token.val)
        if token.typ is T.CHAR_CONSTANT:
            try:
                ch = go_unquote(token.val)
            except ValueError as exc:
                raise self.errorf(str(exc)) from None
            if len(ch) != 1:
                raise self.errorf(f"malformed character constant: {token.val}")
            node.int_value = node.uint_value = ord(ch)
            node.float_value = float(ord(ch))
            node.is_int = node.is_uint = node.is_float = True
            return node
        return parse_number(node, self.errorf)


def _go_quote(s: str) -> str:
    from rollouts.notifications.gotemplate.gofmt import go_quote

    return go_quote(s)


_INT_RE = re.compile(r"^[+-]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)$")
INT64_MAX = 2**63 - 1


def _parse_int(text: str) -> int | None:
    """strconv.ParseInt/ParseUint with base 0 (prefixes, underscores only after a prefix or between digits)."""
    if not _INT_RE.match(text) or "__" in text or text.endswith("_"):
        return None
    body = text.lstrip("+-")
    neg = text.startswith("-")
    if "_" in body and not (len(body) > 1 and body[0] == "0"):
        return None
    clean = body.replace("_", "")
    base = 10
    if len(clean) > 1 and clean[0] == "0":
        if clean[1] in "xX":
            base, clean = 16, clean[2:]
        elif clean[1] in "oO":
            base, clean = 8, clean[2:]
        elif clean[1] in "bB":
            base, clean = 2, clean[2:]
        else:
            base, clean = 8, clean[1:]
    if not clean:
        return 0 if base == 8 else None
    value = int(clean, base)
    return -value if neg else value


def parse_number(node: NumberNode, errorf: Callable[[str], ParseError]) -> NumberNode:
    text = node.text
    value = _parse_int(text)
    if value is not None:
        if 0 <= value < 2**64 and not text.startswith("-"):
            node.is_uint, node.uint_value = True, value
        if -(2**63) <= value <= INT64_MAX:
            node.is_int, node.int_value = True, value
            if value == 0:
                node.is_uint, node.uint_value = True, 0
    if node.is_int:
        node.is_float, node.float_value = True, float(node.int_value)
    elif node.is_uint:
        node.is_float, node.float_value = True, float(node.uint_value)
    else:
        f = _parse_float(text)
        if f is not None:
            if not any(c in text for c in ".eEpP"):
                raise errorf(f"integer overflow: {_go_quote(text)}")
            node.is_float, node.float_value = True, f
            if f == int(f) and -(2**63) <= f < 2**63:
                node.is_int, node.int_value = True, int(f)
            if f == int(f) and 0 <= f < 2**64:
                node.is_uint, node.uint_value = True, int(f)
    if not (node.is_int or node.is_uint or node.is_float):
        raise errorf(f"illegal number syntax: {_go_quote(text)}")
    return node


def _parse_float(text: str) -> float | None:
    clean = text.replace("_", "")
    try:
        if clean.lstrip("+-")[:2].lower() == "0x":
            return float.fromhex(clean)
        if any(c.isalpha() and c not in "eE" for c in clean):
            return None
        return float(clean)
    except (ValueError, OverflowError):
        return None


_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def go_unquote(quoted: str) -> str:
    """strconv.Unquote for "...", `...` and '...'."""
    if len(quoted) < 2 or quoted[0] != quoted[-1] or quoted[0] not in "\"'`":
        raise ValueError("invalid syntax")
    q, body = quoted[0], quoted[1:-1]
    if q == "`":
        if "`" in body:
            raise ValueError("invalid syntax")
        return body.replace("\r", "")
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == q or ch == "\n":
            raise ValueError("invalid syntax")
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        text, i = _unescape(body, i, q)
        out.append(text)
    text = "".join(out)
    if q == "'" and len(text) != 1:
        raise ValueError("invalid syntax")
    return text


def _unescape(body: str, i: int, q: str) -> tuple[str, int]:
    """The escape sequence starting at body[i] (a backslash): its text and the index after it."""
    if i + 1 >= len(body):
        raise ValueError("invalid syntax")
    esc = body[i + 1]
    if esc in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[esc], i + 2
    if esc == q:
        return q, i + 2
    if esc in "xuU":
        width = {"x": 2, "u": 4, "U": 8}[esc]
        digits = body[i + 2:i + 2 + width]
        if len(digits) != width or not all(c in "0123456789abcdefABCDEF" for c in digits):
            raise ValueError("invalid syntax")
        code = int(digits, 16)
        if esc != "x" and (code > 0x10FFFF or 0xD800 <= code < 0xE000):
            raise ValueError("invalid syntax")
        return chr(code), i + 2 + width
    if esc in "01234567":
        digits = body[i + 1:i + 4]
        if len(digits) != 3 or not all(c in "01234567" for c in digits) or int(digits, 8) > 255:
            raise ValueError("invalid syntax")
        return chr(int(digits, 8)), i + 4
    raise ValueError("invalid syntax")
