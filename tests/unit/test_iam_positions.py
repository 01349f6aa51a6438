"""Statement positions as IAM's simulator reports them (cove.iam.positions): the two
answers of the AWS CLI reference's examples, and documents laid out otherwise.

https://docs.aws.amazon.com/cli/latest/reference/iam/simulate-custom-policy.html (1:38 to
1:167) and .../simulate-principal-policy.html (3:19 to 9:10)."""

from __future__ import annotations

import json

from cove.iam.positions import Position, Span, statement_spans


def spans(text: str) -> list[tuple[int, int, int, int]]:
    return [(s.start.line, s.start.column, s.end.line, s.end.column) for s in statement_spans(text)]


def test_the_cli_references_answers() -> None:
    compact = (
        '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*",'
        '"Resource":"*","Condition":{"DateGreaterThan":'
        '{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}'
    )
    assert statement_spans(compact) == (Span(Position(1, 38), Position(1, 167)),)
    indented = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "Grant-Access-To-CodeCommit-ListRepo", "Effect": "Allow",
        "Action": "codecommit:ListRepositories", "Resource": "*",
    }]}, indent=4)  # fmt: skip
    assert spans(indented) == [(3, 19, 9, 10)]


def test_statements_of_an_array_start_past_the_comma_before_them() -> None:
    text = (
        '{"Statement" : [ {"Effect":"Allow","Action":["a:B","a:C"],"Resource":"*"} ,\r\n'
        '  {"Effect":"Deny","Action":"a:B","Resource":["x","y"]}],"Version":"2012-10-17"}'
    )
    assert spans(text) == [(1, 17, 1, 74), (1, 76, 2, 56)]
    assert spans('{"Version": "2012-10-17", "Statement": []}') == []


def test_text_that_is_not_a_policy_object_has_no_positions() -> None:
    for text in ("", "[]", '{"Version": "2012-10-17"}', '{"Statement": "x"}', "not json"):
        assert statement_spans(text) == ()
