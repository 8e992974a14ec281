"""expr-lang's parser, step for step: precedence climbing, predicates, pipes, `let`, `if {} else {}`.

Like expr's, it records the *first* error and keeps unwinding (a lexing error found later still replaces
it, as in expr), counts nodes against expr's limit of 10,000, and leaves `BuiltinNode`s for the names
expr treats as builtins unless the environment defines the name.
"""

from __future__ import annotations

from analysis.expr import ast
from analysis.expr.errors import ExprError, Location
from analysis.expr.lexer import BRACKET, EOF, IDENTIFIER, NUMBER, OPERATOR, STRING, Lexer, Token, is_valid_identifier

MAX_NODES = 10_000
MAX_INT = (1 << 63) - 1

EXPR, PREDICATE, OPTIONAL = 1, 2, 128
PREDICATES: dict[str, tuple[int, ...]] = {
    "all": (EXPR, PREDICATE), "none": (EXPR, PREDICATE), "any": (EXPR, PREDICATE), "one": (EXPR, PREDICATE),
    "filter": (EXPR, PREDICATE), "map": (EXPR, PREDICATE), "count": (EXPR, PREDICATE | OPTIONAL),
    "sum": (EXPR, PREDICATE | OPTIONAL), "find": (EXPR, PREDICATE), "findIndex": (EXPR, PREDICATE),
    "findLast": (EXPR, PREDICATE), "findLastIndex": (EXPR, PREDICATE), "groupBy": (EXPR, PREDICATE),
    "sortBy": (EXPR, PREDICATE, EXPR | OPTIONAL), "reduce": (EXPR, PREDICATE, EXPR | OPTIONAL),
}
_UNARY = {"not": 50, "!": 50, "-": 90, "+": 90}
_COMPARISON = frozenset({"<", ">", ">=", "<="})
_NEGATABLE = frozenset({"contains", "matches", "startsWith", "endsWith", "in"})


class Parser:
    def __init__(self, source: str, *, builtins: frozenset[str], env_names: frozenset[str]) -> None:
        self.source = source
        self.lexer = Lexer(source)
        self.builtins = builtins
        self.env_names = env_names
        self.current = Token(EOF, "", 0, 0)
        self.stashed: Token | None = None
        self.err: ExprError | None = None
        self.depth = 0
        self.node_count = 0

    # --- plumbing --------------------------------------------------------------------------------

    def error(self, message: str, token: Token | None = None) -> None:
        if self.err is None:
            tok = token or self.current
            self.err = ExprError(message, Location(tok.start, tok.end))

    def next(self) -> None:
        if self.stashed is not None:
            self.current, self.stashed = self.stashed, None
            return
        try:
            token = self.lexer.next_token()
        except ExprError as exc:
            self.err = exc
            return
        if token is None:
            self.error("unexpected end of expression")
        else:
            self.current = token

    def expect(self, kind: str, *values: str) -> None:
        if self.current.is_(kind, *values):
            self.next()
            return
        self.error(f"unexpected token {self.current}")

    def create(self, node: ast.Node | None, start: int, end: int) -> ast.Node | None:
        self.node_count += 1
        if self.node_count > MAX_NODES:
            self.error("compilation failed: expression exceeds maximum allowed nodes")
        if node is None or self.err is not None:
            return None
        return node.at(start, end)

    def create_at(self, node: ast.Node, token: Token) -> ast.Node | None:
        return self.create(node, token.start, token.end)

    # --- grammar ---------------------------------------------------------------------------------

    def parse(self) -> ast.Node:
        self.next()
        node = self.parse_sequence()
        if not self.current.is_(EOF):
            self.error(f"unexpected token {self.current}")
        if self.err is not None:
            raise self.err.bind(self.source)
        assert node is not None
        return node

    def parse_sequence(self) -> ast.Node | None:
        nodes = [self.parse_expression(0)]
        while self.current.is_(OPERATOR, ";") and self.err is None:
            self.next()
            if self.current.is_(EOF):
                break
            nodes.append(self.parse_expression(0))
        if len(nodes) == 1:
            return nodes[0]
        first = nodes[0]
        assert first is not None
        return self.create(ast.Sequence(nodes), first.start, first.end)  # type: ignore[arg-type]

    def parse_expression(self, precedence: int) -> ast.Node | None:
        if self.err is not None:
            return None
        if precedence == 0 and self.current.is_(OPERATOR, "let"):
            return self.parse_variable_declaration()
        if precedence == 0 and self.current.is_(OPERATOR, "if"):
            return self.parse_conditional_if()
        left = self.parse_primary()
        previous = ""
        op_token = self.current
        while op_token.is_(OPERATOR) and self.err is None:
            outcome = self._binary_step(left, op_token, precedence, previous)
            if outcome is None:
                break
            left, done = outcome
            if done:
                return None
            previous = op_token.value
            op_token = self.current
        if precedence == 0:
            left = self.parse_conditional(left)
        return left

    def _binary_step(self, left: ast.Node | None, op_token: Token, precedence: int,
                     previous: str) -> tuple[ast.Node | None, bool] | None:
        """One operator of parseExpression's loop: (new left, give up) or None to leave the loop."""
        negate = op_token.is_(OPERATOR, "not")
        not_token = op_token
        if negate:
            backup = self.current
            self.next()
            if self.current.value in _NEGATABLE:
                op_precedence = ast.BINARY_PRECEDENCE.get(self.current.value)
                if op_precedence is not None and op_precedence >= precedence:
                    not_token = op_token = self.current
                else:
                    self.stashed = self.current
                    self.current = backup
                    return None
            else:
                self.error(f"unexpected token {self.current}")
                return None
        op_precedence = ast.BINARY_PRECEDENCE.get(op_token.value)
        if op_precedence is None or op_precedence < precedence:
            return None
        self.next()
        if op_token.value == "|":
            ident = self.current
            self.expect(IDENTIFIER)
            return self.parse_call(ident, [left], check_overrides=True), False
        if previous == "??" and op_token.value != "??" and not op_token.is_(BRACKET, "("):
            self.error(f"Operator ({op_token.value}) and coalesce expressions (??) cannot be mixed. Wrap either "
                       "by parentheses.", op_token)
            return None
        if op_token.value in _COMPARISON:
            return self.parse_comparison(left, op_token, op_precedence), False
        right_precedence = op_precedence if op_token.value in ast.RIGHT_ASSOCIATIVE else op_precedence + 1
        right = self.parse_expression(right_precedence)
        node = self.create_at(ast.Binary(op_token.value, left, right), op_token)  # type: ignore[arg-type]
        if node is None:
            return None, True
        if negate:
            node = self.create_at(ast.Unary("not", node), not_token)
            if node is None:
                return None, True
        return node, False

    def parse_variable_declaration(self) -> ast.Node | None:
        self.expect(OPERATOR, "let")
        name = self.current
        self.expect(IDENTIFIER)
        self.expect(OPERATOR, "=")
        value = self.parse_expression(0)
        self.expect(OPERATOR, ";")
        body = self.parse_sequence()
        return self.create_at(ast.VariableDeclarator(name.value, value, body), name)  # type: ignore[arg-type]

    def parse_conditional_if(self) -> ast.Node | None:
        self.next()
        if self.err is not None:
            return None
        cond = self.parse_expression(0)
        self.expect(BRACKET, "{")
        exp1 = self.parse_sequence()
        self.expect(BRACKET, "}")
        self.expect(OPERATOR, "else")
        if self.current.is_(OPERATOR, "if"):
            exp2 = self.parse_conditional_if()
        else:
            self.expect(BRACKET, "{")
            exp2 = self.parse_sequence()
            self.expect(BRACKET, "}")
        return ast.Conditional(cond, exp1, exp2, ternary=False)  # type: ignore[arg-type]

    def parse_conditional(self, node: ast.Node | None) -> ast.Node | None:
        while self.current.is_(OPERATOR, "?") and self.err is None:
            self.next()
            if not self.current.is_(OPERATOR, ":"):
                exp1 = self.parse_expression(0)
                self.expect(OPERATOR, ":")
                exp2 = self.parse_expression(0)
            else:
                self.next()
                exp1 = node
                exp2 = self.parse_expression(0)
            node = self.create_at(ast.Conditional(node, exp1, exp2, ternary=True), self.current)  # type: ignore[arg-type]
            if node is None:
                return None
        return node

    def parse_primary(self) -> ast.Node | None:
        token = self.current
        if token.is_(OPERATOR) and token.value in _UNARY:
            self.next()
            operand = self.parse_expression(_UNARY[token.value])
            node = self.create_at(ast.Unary(token.value, operand), token)  # type: ignore[arg-type]
            return None if node is None else self.parse_postfix(node)
        if token.is_(BRACKET, "("):
            self.next()
            inner = self.parse_sequence()
            self.expect(BRACKET, ")")
            return self.parse_postfix(inner)
        if self.depth > 0 and (token.is_(OPERATOR, "#") or token.is_(OPERATOR, ".")):
            name = ""
            if token.is_(OPERATOR, "#"):
                self.next()
                if self.current.is_(IDENTIFIER):
                    name = self.current.value
                    self.next()
            node = self.create_at(ast.Pointer(name), token)
            return None if node is None else self.parse_postfix(node)
        if token.is_(OPERATOR, "::"):
            self.next()
            token = self.current
            self.expect(IDENTIFIER)
            return self.parse_postfix(self.parse_call(token, [], check_overrides=False))
        return self.parse_secondary()

    def parse_secondary(self) -> ast.Node | None:
        token = self.current
        node: ast.Node | None
        if token.kind == IDENTIFIER:
            self.next()
            literal = {"true": ast.Bool(True), "false": ast.Bool(False), "nil": ast.Nil()}.get(token.value)
            if literal is not None:
                return self.create_at(literal, token)
            if self.current.is_(BRACKET, "("):
                node = self.parse_call(token, [], check_overrides=True)
            else:
                node = self.create_at(ast.Identifier(token.value), token)
                if node is None:
                    return None
        elif token.kind == NUMBER:
            self.next()
            return self.parse_number(token)
        elif token.kind == STRING:
            self.next()
            node = self.create_at(ast.String(token.value), token)
            if node is None:
                return None
        elif token.is_(BRACKET, "["):
            node = self.parse_array(token)
        elif token.is_(BRACKET, "{"):
            node = self.parse_map(token)
        else:
            self.error(f"unexpected token {token}")
            node = None
        return self.parse_postfix(node)

    def parse_number(self, token: Token) -> ast.Node | None:
        from analysis.expr import gonumbers

        value = token.value.replace("_", "")
        lower = value.lower()
        node: ast.Node | None
        if lower.startswith("0x") or (lower.startswith(("0b", "0o")) and "." not in lower and "e" not in lower):
            kind = {"0x": "hex", "0b": "binary", "0o": "octal"}[lower[:2]]
            number, problem = gonumbers.parse_int(value, 0)
            if problem:
                self.error(f"invalid {kind} literal: {problem}")
            node = self.to_integer(number)
        elif "." in lower or "e" in lower:
            fnumber, problem = gonumbers.parse_float(value)
            if problem:
                self.error(f"invalid float literal: {problem}")
            node = self.create_at(ast.Float(fnumber), self.current)
        else:
            number, problem = gonumbers.parse_int(value, 10)
            if problem:
                self.error(f"invalid integer literal: {problem}")
            node = self.to_integer(number)
        if node is not None:
            node.at(token.start, token.end)
        return node

    def to_integer(self, number: int) -> ast.Node | None:
        if number > MAX_INT:
            self.error("integer literal is too large")
            return None
        return self.create_at(ast.Integer(number), self.current)

    def parse_call(self, token: Token, arguments: list[ast.Node | None], *, check_overrides: bool) -> ast.Node | None:
        overridden = check_overrides and token.value in self.env_names
        if token.value in PREDICATES and not overridden:
            return self._parse_predicate_call(token, arguments)
        if token.value in self.builtins and not overridden:
            args = self.parse_arguments(arguments)
            return self.create_at(ast.Builtin(token.value, args), token)  # type: ignore[arg-type]
        callee = self.create_at(ast.Identifier(token.value), token)
        if callee is None:
            return None
        return self.create_at(ast.Call(callee, self.parse_arguments(arguments)), token)  # type: ignore[arg-type]

    def _parse_predicate_call(self, token: Token, arguments: list[ast.Node | None]) -> ast.Node | None:
        self.expect(BRACKET, "(")
        kinds = PREDICATES[token.value][len(arguments):]
        for i, kind in enumerate(kinds):
            if kind & OPTIONAL:
                if self.current.is_(BRACKET, ")"):
                    break
            elif self.current.is_(BRACKET, ")"):
                self.error(f"expected at least {len(kinds)} arguments")
            if i > 0:
                self.expect(OPERATOR, ",")
            arguments.append(self.parse_expression(0) if kind & EXPR else self.parse_predicate())
        if self.current.is_(OPERATOR, ","):
            self.next()
        self.expect(BRACKET, ")")
        return self.create_at(ast.Builtin(token.value, arguments), token)  # type: ignore[arg-type]

    def parse_arguments(self, arguments: list[ast.Node | None]) -> list[ast.Node | None]:
        offset = len(arguments)
        self.expect(BRACKET, "(")
        while not self.current.is_(BRACKET, ")") and self.err is None:
            if len(arguments) > offset:
                self.expect(OPERATOR, ",")
            if self.current.is_(BRACKET, ")"):
                break
            arguments.append(self.parse_expression(0))
        self.expect(BRACKET, ")")
        return arguments

    def parse_predicate(self) -> ast.Node | None:
        start = self.current
        braces = self.current.is_(BRACKET, "{")
        if braces:
            self.next()
        self.depth += 1
        if braces:
            node = self.parse_sequence()
        else:
            node = self.parse_expression(0)
            if self.current.is_(OPERATOR, ";"):
                self.error("wrap predicate with brackets { and }")
        self.depth -= 1
        if braces:
            self.expect(BRACKET, "}")
        return self.create_at(ast.Predicate(node), start)  # type: ignore[arg-type]

    def parse_array(self, token: Token) -> ast.Node | None:
        nodes: list[ast.Node | None] = []
        self.expect(BRACKET, "[")
        while not self.current.is_(BRACKET, "]") and self.err is None:
            if nodes:
                self.expect(OPERATOR, ",")
                if self.current.is_(BRACKET, "]"):
                    break
            nodes.append(self.parse_expression(0))
        self.expect(BRACKET, "]")
        return self.create_at(ast.Array(nodes), token)  # type: ignore[arg-type]

    def parse_map(self, token: Token) -> ast.Node | None:
        self.expect(BRACKET, "{")
        pairs: list[ast.Node | None] = []
        while not self.current.is_(BRACKET, "}") and self.err is None:
            if pairs:
                self.expect(OPERATOR, ",")
                if self.current.is_(BRACKET, "}"):
                    break
                if self.current.is_(OPERATOR, ","):
                    self.error(f"unexpected token {self.current}")
            key: ast.Node | None = None
            if self.current.kind in (NUMBER, STRING, IDENTIFIER):
                key = self.create_at(ast.String(self.current.value), self.current)
                if key is None:
                    return None
                self.next()
            elif self.current.is_(BRACKET, "("):
                key = self.parse_expression(0)
            else:
                self.error("a map key must be a quoted string, a number, a identifier, or an expression enclosed "
                           f"in parentheses (unexpected token {self.current})")
            self.expect(OPERATOR, ":")
            value = self.parse_expression(0)
            pair = self.create_at(ast.Pair(key, value), token)  # type: ignore[arg-type]
            if pair is None:
                return None
            pairs.append(pair)
        self.expect(BRACKET, "}")
        return self.create_at(ast.MapNode(pairs), token)  # type: ignore[arg-type]

    def parse_postfix(self, node: ast.Node | None) -> ast.Node | None:
        postfix = self.current
        while (postfix.is_(OPERATOR) or postfix.is_(BRACKET)) and self.err is None:
            optional = postfix.value == "?."
            if postfix.value in (".", "?."):
                self.next()
                prop_token = self.current
                if optional and prop_token.is_(BRACKET, "["):
                    node = self._parse_index(node, prop_token, optional=True)
                else:
                    node = self._parse_property(node, postfix, prop_token)
                if node is None:
                    return None
            elif postfix.value == "[":
                node = self._parse_index(node, postfix, optional=False)
                if node is None:
                    return None
            else:
                break
            postfix = self.current
        return node

    def _parse_property(self, node: ast.Node | None, postfix: Token, prop_token: Token) -> ast.Node | None:
        self.next()
        if prop_token.kind != IDENTIFIER and (prop_token.kind != OPERATOR
                                              or not is_valid_identifier(prop_token.value)):
            self.error("expected name")
        prop = self.create_at(ast.String(prop_token.value), prop_token)
        if prop is None:
            return None
        is_chain = isinstance(node, ast.Chain)
        optional = postfix.value == "?."
        base = node.node if isinstance(node, ast.Chain) else node
        member = self.create_at(ast.Member(base, prop, optional=optional), prop_token)  # type: ignore[arg-type]
        if member is None:
            return None
        result: ast.Node | None = member
        if self.current.is_(BRACKET, "("):
            assert isinstance(member, ast.Member)
            member.method = True
            result = self.create_at(ast.Call(member, self.parse_arguments([])), prop_token)  # type: ignore[arg-type]
            if result is None:
                return None
        if is_chain or optional:
            result = self.create_at(ast.Chain(result), prop_token)  # type: ignore[arg-type]
        return result

    def _parse_index(self, node: ast.Node | None, postfix: Token, *, optional: bool) -> ast.Node | None:
        self.next()
        if self.current.is_(OPERATOR, ":"):
            self.next()
            to = None
            if not self.current.is_(BRACKET, "]"):
                to = self.parse_expression(0)
            result = self.create_at(ast.SliceNode(node, None, to), postfix)  # type: ignore[arg-type]
            if result is None:
                return None
            self.expect(BRACKET, "]")
            return result
        from_ = self.parse_expression(0)
        if self.current.is_(OPERATOR, ":"):
            self.next()
            to = None
            if not self.current.is_(BRACKET, "]"):
                to = self.parse_expression(0)
            result = self.create_at(ast.SliceNode(node, from_, to), postfix)  # type: ignore[arg-type]
            if result is None:
                return None
            self.expect(BRACKET, "]")
            return result
        result = self.create_at(ast.Member(node, from_, optional=optional), postfix)  # type: ignore[arg-type]
        if result is None:
            return None
        if optional:
            result = self.create_at(ast.Chain(result), postfix)
            if result is None:
                return None
        self.expect(BRACKET, "]")
        return result

    def parse_comparison(self, left: ast.Node | None, token: Token, precedence: int) -> ast.Node | None:
        root: ast.Node | None = None
        while True:
            comparator = self.parse_expression(precedence + 1)
            cmp = self.create_at(ast.Binary(token.value, left, comparator), token)  # type: ignore[arg-type]
            if cmp is None:
                return None
            if root is None:
                root = cmp
            else:
                root = self.create_at(ast.Binary("&&", root, cmp), token)
                if root is None:
                    return None
            left = comparator
            token = self.current
            if not (token.is_(OPERATOR) and token.value in _COMPARISON and self.err is None):
                break
            self.next()
        return root


def parse(source: str, *, builtins: frozenset[str], env_names: frozenset[str]) -> ast.Node:
    """The tree of `source`; ExprError (bound to its line and column) for the first syntax error."""
    return Parser(source, builtins=builtins, env_names=env_names).parse()
