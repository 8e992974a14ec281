"""Hand-written conditions over the whole language Argo exposes, and a grammar for generated ones.

LANGUAGE names each construct of expr-lang v1.17.7 (docs/language-definition.md) at least once: literals,
operators with their precedence, associativity and mixed types, member and optional access, `??`, pipes,
`let`, predicates with and without braces, `#`/`#index`/`#acc`, ranges, slices, string operators, `if/else`,
the builtins, Argo's additions, and errors of every kind. The differential test evaluates each on several
provider results through both evaluators. `expressions()` is a hypothesis strategy over the same grammar.
"""

from __future__ import annotations

from hypothesis import strategies as st

LANGUAGE: tuple[str, ...] = (
    # literals
    "1 == 1.0", "0x2A == 42 && 0o52 == 42 && 0b101010 == 42", "1_000_000 == 1e6", ".5 + .5 == 1",
    '"a\\tb" == "a" + "\\t" + "b"', "'\\u00e9' == \"é\"", "`raw\\n` == 'raw\\\\n'", "nil == nil", "[1, 2, 3][1] == 2",
    "{a: 1, 'b c': 2}['b c'] == 2", "{a: 1, a: 2}.a == 1", "[] == []", "{} == {}", "[1, [2, 3]][1][0] == 2",
    "'\\x41\\101\\u0041\\U00000041' == 'AAAA'", "/* comment */ true // trailing", "1 +", "'unterminated",
    "9223372036854775807 + 1 < 0", "9223372036854775808 > 0", "1e400 > 0", "0x", "1.e5 == 100000",
    # arithmetic and its types
    "7 / 2 == 3.5", "7 % 3 == 1 && -7 % 3 == -1", "2 ** 10 == 1024", "2 ^ 3 ^ 2 == 512", "-2 ** 2 == -4",
    "1 + 2 * 3 - 4 / 2 == 5", "type(1 + 1) == 'int' && type(1 + 1.0) == 'float' && type(4 / 2) == 'float'",
    "type(2 ** 2) == 'float'", "5 % 0 == 1", "5.5 % 2 == 1", "let z = 0; 5 % z == 1", "1 / 0 > 1e308",
    "let z = 0.0; isNaN(z / z)", "'a' + 'b' == 'ab'", "'a' + 1", "'a' * 2", "-'a'", "!1", "not true == false",
    "1 < 2 < 3", "3 > 2 > 1 == true", "'abc' < 'abd' && 'B' < 'a'", "1 == '1'", "nil == false", "[1] == [1.0]",
    "[1, 2] == [1, 2]", "{'a': 1} == {'a': 1}", "{'a': 1} == {'a': 1.0}", "0.1 + 0.2 == 0.3",
    # logic, short-circuits and folding
    "true || 1 / 0 > 0", "false && result.nope > 1", "result.nope > 1 && false", "true && 1", "1 && true",
    "false or 'x' == 'x'", "true ? 1 : 'a'", "nil ?? 1", "result ?? 5", "(result ?? 5) > 4", "result ?? 5 > 4",
    "1 ?? 2 ?? 3", "true ? false ? 1 : 2 : 3", "if true { 1 } else { 2 }", "if 1 > 2 { 'a' } else if 2 > 1 { 'b' } else { 'c' }",
    "if 1 { 2 } else { 3 }", "let x = 1; let y = x + 1; y * 2 == 4", "let result = 1; result", "let len = 1; len",
    "(1; 2; 3) == 3",
    # membership, access, slices
    "2 in [1, 2, 3]", "'b' in ['a', 'b']", "4 not in [1, 2, 3]", "'a' in {'a': 1}", "1 in {'a': 1}", "nil in ['', 'a']",
    "2 in 1..3", "5 in 1..3", "1.5 in [1, 2]", "'x' in 'xyz'", "[1, 2, 3][-1] == 3", "[1, 2, 3][5]", "[1, 2, 3][1:] == [2, 3]",
    "[1, 2, 3][:2] == [1, 2]", "[1, 2, 3][-2:] == [2, 3]", "[1, 2, 3][5:10] == []", "'hello'[1:3] == 'el'",
    "'héllo'[1:3]", "'abc'[0] == 97", "[1, 2][1.5]", "{'a': {'b': 1}}.a.b == 1", "{'a': nil}?.a?.b == nil",
    "nil?.a == nil", "{'a': 1}['b'] == nil", "{'a': 1}.b == nil", "[1, 2].a", "1..3 == [1, 2, 3]", "3..1 == []",
    "len(1..1000001) > 0", "[1, 2, 3] | len() == 3", "'abc' | upper() | lower() == 'abc'",
    # strings
    "'hello' contains 'ell'", "'hello' startsWith 'he'", "'hello' endsWith 'lo'", "'hello' not contains 'x'",
    "'abc' matches '^a.c$'", "'abc' matches 'b'", "'abc' matches '('", "'abc' not matches 'z'", "1 matches 'a'",
    "nil matches 'a'", "'ab' matches 'a' + 'b'", "'2024-01-01' matches '\\\\d{4}-\\\\d{2}'",
    "trim('  a  ') == 'a' && trim('__a__', '_') == 'a'", "trimPrefix('HelloWorld', 'Hello') == 'World'",
    "trimSuffix('HelloWorld', 'World') == 'Hello'", "upper('héllo') == 'HÉLLO'", "lower('ÀB') == 'àb'",
    "split('a,b,c', ',') == ['a', 'b', 'c']", "split('a,b,c', ',', 2) == ['a', 'b,c']", "len(split('', ','))",
    "splitAfter('a,b', ',') == ['a,', 'b']", "replace('aaa', 'a', 'b') == 'bbb'", "replace('aaa', 'a', 'b', 2)",
    "repeat('ab', 3) == 'ababab'", "repeat('a', -1)", "len(repeat('a', 999999)) == 999999", "repeat('ab', 600000)",
    "join(['a', 'b'], '-') == 'a-b'", "join(['a', 'b']) == 'ab'", "join([1, 2], ',')",
    "indexOf('héllo', 'l') == 3", "lastIndexOf('hello', 'l') == 3", "hasPrefix('abc', 'a')", "hasSuffix('abc', 'c')",
    "len('héllo') == 5", "upper(1)",
    # numbers
    "abs(-1) == 1 && abs(-1.5) == 1.5", "ceil(1.2) == 2 && floor(1.8) == 1 && round(1.5) == 2 && round(-1.5) == -2",
    "type(ceil(1)) == 'float'", "max(1, 2, 3) == 3 && min(1, 2, 3) == 1", "max([1, 5, 2]) == 5", "max([]) == nil",
    "min(1, 'a')", "mean([1, 2, 3, 4]) == 2.5", "mean([]) == 0", "median([3, 1, 2]) == 2", "median([1, 2, 3, 4]) == 2.5",
    "int('42') == 42", "int(3.9) == 3", "int(-3.9) == -3", "int('4.2')", "float('1.5') == 1.5", "float('x')",
    "string(1.5) == '1.5'", "string(1e21) == '1e+21'", "string(100000000.0) == '1e+08'", "string(nil) == '<nil>'",
    "string([1, 'a']) == '[1 a]'", "string({'b': 1, 'a': 2}) == 'map[a:2 b:1]'", "string(true) == 'true'",
    "bitand(12, 10) == 8 && bitor(12, 10) == 14 && bitxor(12, 10) == 6", "bitnot(5) == -6", "bitshl(1, 3) == 8",
    "bitshr(16, 2) == 4", "bitushr(-5, 2) == 4611686018427387902", "bitshl(1, -1)", "bitand(1.5, 1)",
    # arrays and predicates
    "all([1, 2, 3], # > 0)", "all([1, 2, 3], {# > 1})", "any([1, 2, 3], # > 2)", "none([1, 2, 3], # > 5)",
    "one([1, 2, 3], # == 2)", "all([], false)", "any([], true)", "all([1, 'a'], # > 0)", "all([1, 2], 1)",
    "filter(1..9, # % 2 == 0) == [2, 4, 6, 8]", "map(1..3, # * 2) == [2, 4, 6]", "map(1..3, #index) == [0, 1, 2]",
    "count([true, false, true]) == 2", "count(1..10, # > 5) == 5", "sum([1, 2, 3]) == 6", "sum([1.5, 2]) == 3.5",
    "sum(1..3, # * 2) == 12", "sum(['a'])", "find([1, 2, 3, 4], # > 2) == 3", "find([1, 2], # > 5) == nil",
    "findIndex([1, 2, 3], # > 1) == 1", "findLast([1, 2, 3], # < 3) == 2", "findLastIndex([1, 2, 3], # < 3) == 1",
    "filter([1, 2, 3], # > 5)[0]", "filter([1, 2, 3], # > 1)[0] == 2", "first(filter([1, 2], # > 5)) == nil",
    "last(filter([1, 2, 3], # < 3)) == 2", "len(filter(1..10, # > 3)) == 7", "map(filter(1..5, # > 2), # * 10) == [30, 40, 50]",
    "filter(filter(1..10, # > 2), # < 5) == [3, 4]", "all(1..3, # > 0) && all(1..3, # < 4)", "any([1], # > 5) || any([1], # == 1)",
    "none([1], # > 5) && none([1], # < 0)", "groupBy([1, 2, 3, 4], # % 2)[0] == [2, 4]", "len(groupBy([1, 1.0], #)) == 2",
    "groupBy([[1]], #)", "sortBy([3, 1, 2], #) == [1, 2, 3]", "sortBy([3, 1, 2], #, 'desc') == [3, 2, 1]",
    "sortBy([1, 2], #, 'up')", "sortBy([{'n': 'b', 'k': 1}, {'n': 'a', 'k': 1}, {'n': 'c', 'k': 0}], .k)[1].n == 'b'",
    "sortBy([1, 'a'], #)", "reduce(1..4, #acc + #) == 10", "reduce(1..4, #acc + #, 10) == 20", "reduce([], #acc)",
    "reduce(1..3, #acc + #index, 0) == 3", "first([1, 2]) == 1 && last([1, 2]) == 2 && first([]) == nil",
    "take([1, 2, 3], 2) == [1, 2]", "take([1, 2], 5) == [1, 2]", "reverse([1, 2, 3]) == [3, 2, 1]",
    "uniq([1, 2, 1, 1.0]) == [1, 2]", "concat([1], [2, 3]) == [1, 2, 3]", "flatten([1, [2, [3]]]) == [1, 2, 3]",
    "sort([3, 1, 2]) == [1, 2, 3]", "sort(['b', 'a'], 'desc') == ['b', 'a']", "sort([1, 'a'])",
    "len({'a': 1, 'b': 2}) == 2", "get([1, 2], 5) == nil && get({'a': 1}, 'a') == 1", "get(nil, 1) == nil",
    "fromPairs([['a', 1]])['a'] == 1", "len(toPairs({'a': 1})) == 1", "all(['a', 'b'], {let x = #; x != ''})",
    "filter([{'v': 1}, {'v': 2}], .v > 1)[0].v == 2", "map([[1, 2], [3]], len(#)) == [2, 1]",
    "all([[1, 2]], all(#, # > 0))", "len(map(1..3, map(1..3, #))) == 3", "count(1..3)", "#", "map(1..2, #acc)",
    "all(1, true)", "all(nil, true)", "len(1)", "len(nil)", "len([1], [2])",
    # conversions and encodings
    "toJSON({'a': [1, 2.5, 'x', nil, true]}) contains '\"a\"'", "toJSON(1.0) == '1'", "toJSON('<a&b>')",
    "fromJSON('{\"a\": [1, 2]}').a[1] == 2", "fromJSON('[1, 2') == nil", "fromJSON('{\"a\": 1}}')", "fromJSON('tru')",
    "type(fromJSON('1')) == 'float'", "toBase64('Hello World') == 'SGVsbG8gV29ybGQ='",
    "fromBase64('SGVsbG8gV29ybGQ=') == 'Hello World'", "fromBase64('%%%')", "toJSON(1 / 0)",
    "type(nil) == 'nil' && type(true) == 'bool' && type('') == 'string' && type([]) == 'array' && type({}) == 'map'",
    # time
    "duration('1h30m').Minutes() == 90", "duration('1.5s').Milliseconds() == 1500", "duration('1x')",
    "duration('90m') == duration('1h30m')", "duration('1h') > duration('59m')", "string(duration('1h')) == '1h0m0s'",
    "date('2023-08-14').Year() == 2023 && date('2023-08-14').Month() == 8", "date('2023-08-14').Weekday() == 1",
    "date('2023-08-14 12:30:00').Hour() == 12", "date('2023-08-14T10:00:00+02:00').UTC().Hour() == 8",
    "date('14/08/2023', '02/01/2006').Day() == 14", "date('nope')", "date('2023-13-01', '2006-01-02')",
    "date('2023-08-14') - date('2023-08-13') == duration('24h')", "date('2023-08-14') + duration('1h') > date('2023-08-14')",
    "date('2023-08-14').Format('Jan 2, 2006') == 'Aug 14, 2023'", "string(date('2023-08-14'))",
    "date('2023-08-14 00:00:00', '2006-01-02 15:04:05', 'Europe/Zurich').Hour() == 0",
    "date('2023-08-14').In(timezone('Asia/Tokyo')).Hour() == 9", "timezone('Nowhere/Nothing')",
    "date('2023-08-14').Unix() == 1691971200", "date('2023-08-14').YearDay() == 226", "duration(1)",
    # Argo's environment
    "isNaN(1.5) == false", "isNaN(1)", "isInf(1 / 0)", "asInt('42') == 42", "asInt(4.9) == 4", "asInt(true)",
    "asInt('4.9')", "asFloat('4.5') == 4.5", "asFloat(nil)", "asFloat('x')", "isNil(1)", "default(1, 2)",
    "default(nil, 2) == 2", "args.x", "$env.result == result", "'result' in $env", "len($env) == 7", "now() > date('2020-01-01')",
    "unknown(1)", "result.Name()", "asInt()", "isNaN(1, 2)", "let isNaN = 1; isNaN",
)

RESULT_CONDITIONS: tuple[str, ...] = (
    "result > 0.5", "result[0] > 0.5", "result == nil", "result != nil", "len(result) > 0", "result[0]",
    "all(result, # > 0)", "any(result, # > 100)", "result.ok == true", "result.ok", "result?.ok ?? false",
    "result.items[1] == 2", "result.items[5]", "result.items | len() == 3", "'a' in result.tags",
    "result.successPercent >= 0.9", "asFloat(result.successPercent) >= 0.9", "result.data.result[0].value[1] == '0.5'",
    "filter(result, # != nil) | len() > 0", "type(result)", "string(result)", "toJSON(result) != ''",
    "result[1:3]", "result['ok']", "result.missing.deeper", "result?.missing?.deeper == nil", "isNil(result)",
    "default(result, 0)", "default(result, 0) > 0", "isNaN(result)", "isNaN(result[0])", "result + 1 > 0",
    "result * 2", "-result", "!result", "result ? 1 : 2", "result matches 'ok'", "result contains 'o'",
    "len(result) == 0 || result[0] >= 0.95", "sum(result) > 1", "mean(result) > 0", "max(result) > 0",
    "sortBy(result, #)[0]", "reduce(result, #acc + #)", "result in [1, 2, 3]", "result.items in [1]",
    "result[0].Values[0] < 0.01", "all(result[0].Values, {# <= 0.01})", "result[0].Id", "result[0].StatusCode == 'Complete'",
    "result.n + result.f", "result.l[0] + result.n", "result.Status + 1 == 1000", "result.Status == 999.0",
    "int(result) == 1", "float(result) > 0", "upper(result)", "split(result, ',')", "result.major + result.minor",
    "len(result.service_apdex.values.values) == 2", "map(result.service_apdex.values.values, .value)[0] == '9950'",
    "all(result.service_apdex.values.values, {asFloat(.value) >= 9900})", "result.items[0] + result.name",
    "all(result.items, {all(result.items, # > 0)})", "first(result)", "last(result) == 3", "result[-1]",
    "all(result.items, # > 0) && all(result.items, # < 5)", "filter(result.items, # > 1)[0] == 2",
    "result.Status in [999, -1]", "result.major in ['1', '2']", "len(result) > 0 && result[0] > 0.9",
)


# --- generated conditions ---------------------------------------------------------------------------------

_ATOMS = st.sampled_from([
    "0", "1", "2", "-1", "3", "0.5", "1.5", "-2.5", "1e3", "'a'", "'abc'", "''", "'1'", "true", "false", "nil",
    "result", "result[0]", "result.ok", "result.items", "result.items[0]", "result.Status", "result.major",
    "[1, 2, 3]", "[]", "['a', 'b']", "[1, 'a', nil]", "{'a': 1}", "{'a': [1, 2]}", "1..3", "len(result)",
])
_BINARY = st.sampled_from(["+", "-", "*", "/", "%", "**", "==", "!=", "<", ">", "<=", ">=", "&&", "||", "and",
                           "or", "in", "not in", "contains", "startsWith", "endsWith", "??", "..", "matches"])
_UNARY = st.sampled_from(["!", "-", "not ", "+"])
_FUNCTIONS_1 = st.sampled_from(["len", "abs", "int", "float", "string", "type", "upper", "trim", "first", "last",
                                "reverse", "uniq", "flatten", "sort", "max", "min", "mean", "median", "sum",
                                "isNaN", "isInf", "asInt", "asFloat", "isNil", "toJSON", "ceil", "floor", "round",
                                "toBase64", "count"])
_PREDICATES = st.sampled_from(["all", "any", "none", "one", "filter", "map", "count", "find", "findIndex",
                               "findLast", "sum", "groupBy", "sortBy"])
_PREDICATE_BODIES = st.sampled_from(["# > 0", "# == 1", "#", "# + 1", "len(#) > 0", "# != nil", "#index > 0",
                                     "type(#) == 'int'", "# in [1, 2]", "string(#)", "true", "#.ok"])


def _extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, _BINARY, children).map(lambda p: f"({p[0]} {p[1]} {p[2]})" if p[1] != "matches"
                                                   else f"({p[0]} matches 'a')"),
        st.tuples(_UNARY, children).map(lambda p: f"{p[0]}({p[1]})"),
        st.tuples(_FUNCTIONS_1, children).map(lambda p: f"{p[0]}({p[1]})"),
        st.tuples(_PREDICATES, children, _PREDICATE_BODIES).map(lambda p: f"{p[0]}({p[1]}, {{{p[2]}}})"),
        st.tuples(children, children, children).map(lambda p: f"({p[0]} ? {p[1]} : {p[2]})"),
        st.tuples(children, st.sampled_from(["[0]", "[1]", "[-1]", "[1:]", "[:1]", ".ok", "?.ok", "['a']"]))
        .map(lambda p: f"({p[0]}){p[1]}"),
        st.tuples(children, children).map(lambda p: f"let v = {p[0]}; {p[1]}"),
        st.tuples(children, st.sampled_from(["len()", "upper()", "string()", "type()"]))
        .map(lambda p: f"{p[0]} | {p[1]}"),
        st.lists(children, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
    )


def expressions() -> st.SearchStrategy[str]:
    """Conditions built from expr's grammar; most do not type-check or fail at run time, which is the point."""
    return st.recursive(_ATOMS, _extend, max_leaves=8)
