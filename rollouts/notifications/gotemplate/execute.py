"""Executes a parsed template the way Go's text/template/exec.go does, over the value model of ``values``.

The structure follows Go's so that behaviour (and error messages) match case by case: ``walk`` over the
tree, ``eval_pipeline`` / ``eval_command`` / ``eval_field`` / ``eval_call`` / ``eval_arg`` /
``validate_type``. Where Go would panic with an ExecError we raise one, worded as Go words it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rollouts.notifications.gotemplate import gotime
from rollouts.notifications.gotemplate.errors import ExecError, location
from rollouts.notifications.gotemplate.functions import Func, GoError
from rollouts.notifications.gotemplate.gofmt import format_value, go_quote, sort_keys
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
from rollouts.notifications.gotemplate.values import (
    MISSING,
    GoFunc,
    Iface,
    Int64,
    can_be_nil,
    element,
    indirect,
    truth,
    type_name,
    unwrap,
    zero_of,
)


class _NoFinal:
    """Go's missingVal: no value piped in (distinct from a piped invalid value)."""

    def __repr__(self) -> str:
        return "NO_FINAL"


NO_FINAL: Any = _NoFinal()
MAX_OUTPUT = 4 * 1024 * 1024


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class State:
    def __init__(self, name: str, text: str, funcs: Mapping[str, Func], data: Any) -> None:
        self.name = name
        self.text = text
        self.funcs = funcs
        self.out: list[str] = []
        self.size = 0
        self.node: Any = None
        self.vars: list[list[Any]] = [["$", data]]

    # -- errors and variables -----------------------------------------------------------------------

    def errorf(self, message: str) -> ExecError:
        if self.node is None:
            return ExecError(f"template: {self.name}: {message}")
        line, col = location(self.text, self.node.pos)
        return ExecError(
            f"template: {self.name}:{line}:{col}: executing {go_quote(self.name)} at <{self.node}>: {message}"
        )

    def at(self, node: Any) -> None:
        self.node = node

    def mark(self) -> int:
        return len(self.vars)

    def pop(self, mark: int) -> None:
        del self.vars[mark:]

    def set_var(self, name: str, value: Any) -> None:
        for entry in reversed(self.vars):
            if entry[0] == name:
                entry[1] = value
                return
        raise self.errorf(f"undefined variable: {name}")

    def set_top_var(self, n: int, value: Any) -> None:
        self.vars[len(self.vars) - n][1] = value

    def var_value(self, name: str) -> Any:
        for entry in reversed(self.vars):
            if entry[0] == name:
                return entry[1]
        raise self.errorf(f"undefined variable: {name}")

    def write(self, text: str) -> None:
        self.size += len(text)
        if self.size > MAX_OUTPUT:
            raise self.errorf(f"output exceeds {MAX_OUTPUT} bytes")
        self.out.append(text)

    # -- statements ---------------------------------------------------------------------------------

    def walk(self, dot: Any, node: Any) -> None:
        self.at(node)
        if isinstance(node, ActionNode):
            val = self.eval_pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.print_value(node, val)
        elif isinstance(node, TextNode):
            self.write(node.text)
        elif isinstance(node, ListNode):
            for child in node.nodes:
                self.walk(dot, child)
        elif isinstance(node, BranchNode):
            if node.kind == "range":
                self.walk_range(dot, node)
            else:
                self.walk_if_or_with(node, dot)
        elif isinstance(node, BreakNode):
            raise _Break
        elif isinstance(node, ContinueNode):
            raise _Continue
        elif not isinstance(node, CommentNode):
            raise self.errorf(f"unknown node: {node}")

    def walk_if_or_with(self, node: BranchNode, dot: Any) -> None:
        mark = self.mark()
        try:
            val = self.eval_pipeline(dot, node.pipe)
            ok_truth, ok = truth(val)
            if not ok:
                raise self.errorf(f"if/with can't use {format_value(val)}")
            if ok_truth:
                self.walk(val if node.kind == "with" else dot, node.list)
            elif node.else_list is not None:
                self.walk(dot, node.else_list)
        finally:
            self.pop(mark)

    def walk_range(self, dot: Any, node: BranchNode) -> None:
        self.at(node)
        outer = self.mark()
        try:
            val, _ = indirect(self.eval_pipeline(dot, node.pipe))
            if not self._range_over(node, val) and node.else_list is not None:
                self.walk(dot, node.else_list)
        except _Break:
            pass
        finally:
            self.pop(outer)

    def _range_over(self, node: BranchNode, val: Any) -> bool:
        """Run the iterations; False when there were none (so the else branch runs)."""
        mark = self.mark()
        if isinstance(val, int) and not isinstance(val, bool):
            if len(node.pipe.decl) > 1:
                raise self.errorf(f"can't use {format_value(val)} to iterate over more than one variable")
            cast = Int64 if isinstance(val, Int64) else int
            for i in range(int(val)):
                self._iteration(node, mark, MISSING, cast(i))
            return int(val) > 0
        if isinstance(val, (list, bytes)):
            for i, elem in enumerate(val):  # a []byte's elements are uint8 (element() types them)
                self._iteration(node, mark, i, element(val, elem))
            return len(val) > 0
        if isinstance(val, dict):
            for key in sort_keys(val):
                self._iteration(node, mark, key, element(val, val[key]))
            return len(val) > 0
        if val is MISSING:
            return False
        raise self.errorf(f"range can't iterate over {format_value(val)}")

    def _iteration(self, node: BranchNode, mark: int, index: Any, elem: Any) -> None:
        decl = node.pipe.decl
        if decl:
            if node.pipe.is_assign:
                self.set_var(decl[0].ident[0], index if len(decl) > 1 else elem)
            else:
                self.set_top_var(1, elem)
        if len(decl) > 1:
            if node.pipe.is_assign:
                self.set_var(decl[1].ident[0], elem)
            else:
                self.set_top_var(2, index)
        try:
            self.walk(elem, node.list)
        except _Continue:
            pass
        finally:
            self.pop(mark)

    def print_value(self, node: Any, v: Any) -> None:
        self.at(node)
        if v is MISSING:
            self.write("<no value>")
            return
        if isinstance(v, GoFunc):
            raise self.errorf(f"can't print {node} of type {type_name(v)}")
        self.write(format_value(v))

    # -- expressions ----------------------------------------------------------------------------------

    def eval_pipeline(self, dot: Any, pipe: PipeNode | None) -> Any:
        if pipe is None:
            return MISSING
        self.at(pipe)
        value: Any = NO_FINAL
        for cmd in pipe.cmds:
            value = unwrap(self.eval_command(dot, cmd, value))
        for var in pipe.decl:
            if pipe.is_assign:
                self.set_var(var.ident[0], value)
            else:
                self.vars.append([var.ident[0], value])
        return value

    def not_a_function(self, args: list[Any], final: Any) -> None:
        if len(args) > 1 or final is not NO_FINAL:
            raise self.errorf(f"can't give argument to non-function {args[0]}")

    def eval_command(self, dot: Any, cmd: CommandNode, final: Any) -> Any:
        first = cmd.args[0]
        if isinstance(first, FieldNode):
            self.at(first)
            return self.eval_field_chain(dot, dot, first, first.ident, cmd.args, final)
        if isinstance(first, ChainNode):
            return self.eval_chain(dot, first, cmd.args, final)
        if isinstance(first, IdentifierNode):
            return self.eval_function(dot, first, cmd, cmd.args, final)
        if isinstance(first, PipeNode):
            self.not_a_function(cmd.args, final)
            return self.eval_pipeline(dot, first)
        if isinstance(first, VariableNode):
            return self.eval_variable(dot, first, cmd.args, final)
        self.at(first)
        self.not_a_function(cmd.args, final)
        if isinstance(first, BoolNode):
            return first.value
        if isinstance(first, DotNode):
            return dot
        if isinstance(first, NilNode):
            raise self.errorf("nil is not a command")
        if isinstance(first, NumberNode):
            return self.ideal_constant(first)
        if isinstance(first, StringNode):
            return first.text
        raise self.errorf(f"can't evaluate command {go_quote(str(first))}")

    def ideal_constant(self, constant: NumberNode) -> Any:
        self.at(constant)
        text = constant.text
        is_hex_int = len(text) > 2 and text[0] == "0" and text[1] in "xX" and not any(c in text for c in "pP")
        if constant.is_float and not is_hex_int and not text.startswith("'") and any(c in text for c in ".eEpP"):
            return constant.float_value
        if constant.is_int:
            return constant.int_value
        if constant.is_uint:
            raise self.errorf(f"{text} overflows int")
        return MISSING

    def eval_chain(self, dot: Any, chain: ChainNode, args: list[Any], final: Any) -> Any:
        self.at(chain)
        if not chain.field:
            raise self.errorf("internal error: no fields in evalChainNode")
        if isinstance(chain.node, NilNode):
            raise self.errorf(f"indirection through explicit nil in {chain}")
        pipe = self.eval_arg(dot, None, chain.node)
        return self.eval_field_chain(dot, pipe, chain, chain.field, args, final)

    def eval_variable(self, dot: Any, variable: VariableNode, args: list[Any], final: Any) -> Any:
        self.at(variable)
        value = self.var_value(variable.ident[0])
        if len(variable.ident) == 1:
            self.not_a_function(args, final)
            return value
        return self.eval_field_chain(dot, value, variable, variable.ident[1:], args, final)

    def eval_field_chain(self, dot: Any, receiver: Any, node: Any, ident: list[str], args: list[Any] | None,
                         final: Any) -> Any:
        for name in ident[:-1]:
            receiver = self.eval_field(dot, name, node, None, NO_FINAL, receiver)
        return self.eval_field(dot, ident[-1], node, args, final, receiver)

    def eval_field(self, dot: Any, name: str, node: Any, args: list[Any] | None, final: Any, receiver: Any) -> Any:
        if receiver is MISSING:
            return MISSING
        typ = type_name(receiver)
        receiver, is_nil = indirect(receiver)
        if is_nil:
            raise self.errorf(f"nil pointer evaluating {typ}.{name}")
        if isinstance(receiver, datetime) and name in gotime.METHODS:
            method = gotime.METHODS[name]
            return self.eval_call(dot, method, False, node, name, args, final, receiver=receiver)
        has_args = (args is not None and len(args) > 1) or final is not NO_FINAL
        if isinstance(receiver, dict):
            if has_args:
                raise self.errorf(f"{name} is not a method but has arguments")
            if name in receiver:
                return element(receiver, receiver[name])
            return MISSING
        raise self.errorf(f"can't evaluate field {name} in type {typ}")

    def eval_function(self, dot: Any, node: IdentifierNode, cmd: Any, args: list[Any] | None, final: Any) -> Any:
        self.at(node)
        fn = self.funcs.get(node.ident)
        if fn is None:
            raise self.errorf(f"{go_quote(node.ident)} is not a defined function")
        return self.eval_call(dot, fn, True, cmd, node.ident, args, final)

    def eval_call(self, dot: Any, fn: Func, is_builtin: bool, node: Any, name: str, args: list[Any] | None,
                  final: Any, *, receiver: Any = MISSING) -> Any:
        args = list(args[1:]) if args else []
        num_in = len(args) + (0 if final is NO_FINAL else 1)
        num_fixed = len(args)
        if fn.variadic is not None:
            num_fixed = len(fn.params)
            if num_in < num_fixed:
                raise self.errorf(f"wrong number of args for {name}: want at least {len(fn.params)} got {len(args)}")
        elif num_in != len(fn.params):
            raise self.errorf(f"wrong number of args for {name}: want {len(fn.params)} got {num_in}")
        if is_builtin and name in ("and", "or"):
            return self._and_or(dot, name, args, final)
        argv = self._call_args(dot, fn, args, final, num_in, num_fixed)
        if is_builtin and name == "call":
            callee = str(args[0]) if args else format_value(final)
            argv = [callee, *argv]
        if receiver is not MISSING:
            argv = [receiver, *argv]
        try:
            result = fn.impl(*argv)
        except GoError as exc:
            self.at(node)
            raise self.errorf(f"error calling {name}: {exc}") from None
        except (ValueError, TypeError, ZeroDivisionError, OverflowError, IndexError, KeyError) as exc:
            self.at(node)
            raise self.errorf(f"error calling {name}: {exc}") from None
        if fn.returns == "any" and not isinstance(result, Iface):
            return Iface(result)
        return result

    def _call_args(self, dot: Any, fn: Func, args: list[Any], final: Any, num_in: int, num_fixed: int) -> list[Any]:
        argv: list[Any] = []
        for i, arg in enumerate(args):
            typ = fn.params[i] if i < num_fixed else fn.variadic
            argv.append(self.eval_arg(dot, typ, arg))
        if final is not NO_FINAL:
            typ = fn.params[-1] if fn.params else fn.variadic
            if fn.variadic is not None:
                typ = fn.params[num_in - 1] if num_in - 1 < num_fixed else fn.variadic
            argv.append(self.arg_value(self.validate_type(final, typ), typ))
        return argv

    def _and_or(self, dot: Any, name: str, args: list[Any], final: Any) -> Any:
        v: Any = MISSING
        for arg in args:
            v = self.eval_arg(dot, "value", arg)
            if truth(v)[0] == (name == "or"):
                return v
        if final is not NO_FINAL:
            v = self.validate_type(final, "value")
        return v

    def validate_type(self, value: Any, typ: str | None) -> Any:
        if typ == "value":
            return value
        if value is MISSING:
            if typ is None:
                return MISSING
            if can_be_nil(typ):
                return zero_of(typ)
            raise self.errorf(f"invalid value; expected {typ}")
        if typ is None or typ == "any":
            return value
        if isinstance(value, Iface) and value.value is not None:
            value = value.value
        if type_name(value) == typ:
            return value
        raise self.errorf(f"wrong type for value; expected {typ}; got {type_name(value)}")

    def eval_arg(self, dot: Any, typ: str | None, n: Any) -> Any:
        self.at(n)
        if isinstance(n, DotNode):
            return self.arg_value(self.validate_type(dot, typ), typ)
        if isinstance(n, NilNode):
            if typ is not None and can_be_nil(typ):
                return zero_of(typ)
            raise self.errorf(f"cannot assign nil to {typ}")
        if isinstance(n, FieldNode):
            v = self.eval_field_chain(dot, dot, n, n.ident, [n], NO_FINAL)
            return self.arg_value(self.validate_type(v, typ), typ)
        if isinstance(n, VariableNode):
            return self.arg_value(self.validate_type(self.eval_variable(dot, n, [], NO_FINAL), typ), typ)
        if isinstance(n, PipeNode):
            return self.arg_value(self.validate_type(self.eval_pipeline(dot, n), typ), typ)
        if isinstance(n, IdentifierNode):
            return self.arg_value(self.validate_type(self.eval_function(dot, n, n, None, NO_FINAL), typ), typ)
        if isinstance(n, ChainNode):
            return self.arg_value(self.validate_type(self.eval_chain(dot, n, [], NO_FINAL), typ), typ)
        return self.literal_arg(dot, typ, n)

    @staticmethod
    def arg_value(v: Any, typ: str | None) -> Any:
        """What the callee receives: an interface{} parameter gets the value inside the interface."""
        if typ == "any" and isinstance(v, Iface):
            return v.value
        return v

    def literal_arg(self, dot: Any, typ: str | None, n: Any) -> Any:
        if typ == "bool":
            if isinstance(n, BoolNode):
                return n.value
            raise self.errorf(f"expected bool; found {n}")
        if typ in ("int", "int64"):
            if isinstance(n, NumberNode) and n.is_int:
                return Int64(n.int_value) if typ == "int64" else n.int_value
            raise self.errorf(f"expected integer; found {n}")
        if typ == "float64":
            if isinstance(n, NumberNode) and n.is_float:
                return n.float_value
            raise self.errorf(f"expected float; found {n}")
        if typ == "string":
            if isinstance(n, StringNode):
                return n.text
            raise self.errorf(f"expected string; found {n}")
        if typ in ("any", "value"):
            return self.empty_interface(dot, n)
        raise self.errorf(f"can't handle {n} for arg of type {typ}")

    def empty_interface(self, dot: Any, n: Any) -> Any:
        self.at(n)
        if isinstance(n, BoolNode):
            return n.value
        if isinstance(n, NumberNode):
            return self.ideal_constant(n)
        if isinstance(n, StringNode):
            return n.text
        raise self.errorf(f"can't handle assignment of {n} to empty interface argument")
