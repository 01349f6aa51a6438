"""API Gateway's mapping templates: the VTL subset and the $input/$util/$context variables
(Developer Guide, "Variables for data transformations for API Gateway" and "Mapping
template reference": $input.json returns a JSON string, $input.path an object,
$input.params(x) searches path, query string, then headers; $util.escapeJavaScript
escapes single quotes too, "the escaped single quotes are not valid in JSON")."""

from __future__ import annotations

import json

import pytest

from cove.apis.mapping import BodyNotJson, Params, escape_javascript, select, transform
from cove.apis.vtl import TemplateError, parse

# the console's "Method Request passthrough" template, as AWS ships it
PASSTHROUGH = """##  See https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html
#set($allParams = $input.params())
{
"body-json" : $input.json('$'),
"params" : {
#foreach($type in $allParams.keySet())
    #set($params = $allParams.get($type))
"$type" : {
    #foreach($paramName in $params.keySet())
    "$paramName" : "$util.escapeJavaScript($params.get($paramName))"
        #if($foreach.hasNext),#end
    #end
}
    #if($foreach.hasNext),#end
#end
},
"context" : {
    "http-method" : "$context.httpMethod",
    "stage" : "$context.stage",
    "source-ip" : "$context.identity.sourceIp"
}
}
"""


def render(template: str, body: str = "", params: Params | None = None, **context) -> str:
    return transform(template, body, params or Params(), context, {"env": "dev"})


def test_the_method_request_passthrough_template_renders_valid_json():
    params = Params({"id": "7"}, {"q": "a b"}, {"User-Agent": 'say "hi"'})
    context = {"httpMethod": "POST", "stage": "test", "identity": {"sourceIp": "127.0.0.1"}}
    out = json.loads(render(PASSTHROUGH, '{"data": "13.49,22.3"}', params, **context))
    assert out["body-json"] == {"data": "13.49,22.3"}
    assert out["params"] == {"path": {"id": "7"}, "querystring": {"q": "a b"},
                             "header": {"User-Agent": 'say "hi"'}}  # fmt: skip
    assert out["context"] == {"http-method": "POST", "stage": "test", "source-ip": "127.0.0.1"}


def test_input_json_path_and_body():
    body = '{"data": "1,2", "rows": [{"v": 1}, {"v": 2}], "n": null}'
    assert render("$input.json('$.data')", body) == '"1,2"'
    assert render("$input.json('$.rows[1]')", body) == '{"v":2}'
    assert render("$input.path('$.rows').size()", body) == "2"
    assert render("$input.path('$.rows[0].v')", body) == "1"
    assert render("$input.json('$.missing')", body) == "null"
    assert render("$input.body", body) == body
    assert render('{"wrapped": $input.body}', "[1]") == '{"wrapped": [1]}'
    assert select({"a": {"b c": 3}}, "$['a']['b c']") == 3
    with pytest.raises(BodyNotJson):
        render("$input.json('$')", "not json")


def test_params_search_order_and_headers_by_any_case():
    params = Params({"x": "path"}, {"x": "query", "y": "query"}, {"X-Y": "header"})
    assert render("$input.params('x') $input.params('y') $input.params('x-y')", "", params) == (
        "path query header"
    )
    assert render("[$input.params('nope')]", "", params) == "[]"
    assert render("$input.params().querystring.y", "", params) == "query"


def test_directives_and_expressions():
    template = (
        "#set($n = 3)#set($names = ['a', 'b'])"
        "#if($n > 2 && $names.size() == 2)big#elseif($n == 1)one#{else}small#end;"
        "#foreach($x in $names)$x#if($foreach.hasNext),#end#end;"
        "${n}0;$!missing;$missing;#* gone *#\\$n;"
        '#set($s = "n=$n")$s;$stageVariables.env;'
        "#if(!$missing)none#end;#if($n != 3)x#{else}eq#end"
    )
    assert render(template) == "big;a,b;30;;$missing;$n;n=3;dev;none;eq"


def test_string_methods_and_map_literals():
    assert render('$util.escapeJavaScript("it\'s").toUpperCase()') == "IT\\'S"
    assert render("#set($m = {'k': 1})$m.k $m.get('k') $m.containsKey('z')") == "1 1 false"
    assert render("#set($s = 'a-b-c')$s.replaceAll('-', '+') $s.split('-').size()") == "a+b+c 3"


def test_escape_javascript_is_javas():
    assert escape_javascript("a\"b'c\\d/e\nf\tg") == "a\\\"b\\'c\\\\d\\/e\\nf\\tg"
    assert escape_javascript("é\x01") == "\\u00E9\\u0001"
    assert escape_javascript("😀") == "\\uD83D\\uDE00"


def test_util_encodings():
    assert render("$util.urlEncode('a b&c')") == "a+b%26c"
    assert render("$util.base64Encode('hi')") == "aGk="
    assert render("$util.base64Decode('aGk=')") == "hi"
    assert render("$util.parseJson('{\"a\": [1]}').a.size()") == "1"


@pytest.mark.parametrize("broken", ["#if($a)x", "#end", "#set(x = 1)", "#foreach($a $b)#end"])
def test_broken_templates_are_refused(broken):
    with pytest.raises(TemplateError):
        parse(broken)
