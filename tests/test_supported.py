"""The README's supported list is the one generated from the rule table."""
import os
import re

import pytest

pytest.importorskip("scipy")

from s2sgrad import supported  # noqa: E402

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")


def _block():
    with open(README, encoding="utf-8") as fh:
        block = supported.readme_block(fh.read())
    assert block is not None, "README.md has no generated 'supported' block"
    return block


def test_readme_list_is_generated_from_the_rule_table():
    problems = supported.compare(_block())
    assert not problems, ("README.md's supported list differs from the rule table (run "
                          "'python -m s2sgrad.supported --write README.md'):\n"
                          + "\n".join(problems))


def _sub(block, word, new):
    """``block`` with the first listed ``word`` (between blanks or line
    breaks, wherever the wrapping put it) replaced by ``new``."""
    out, n = re.subn(rf"(?<=\s){re.escape(word)}(?=\s)", new, block, count=1)
    assert n == 1, word
    return out


def test_compare_notices_drift():
    block = _block()
    assert supported.compare(_sub(block, "hypot", "")) == [
        "numpy_diff: not listed: hypot"]
    assert supported.compare(_sub(block, "hypot", "hypot sinc")) == []  # (listed twice)
    assert supported.compare(_sub(block, "floor_divide", "floor_divide hypot")) == [
        "numpy_data: listed but not in the table: hypot"]
    # an alias this NumPy does not have is not drift
    assert supported.compare(_sub(block, "floor_divide", "floor_divide no_such_alias")) == []


def test_listed_names_resolve_and_count():
    c = supported.collect()
    assert "hypot" in c["numpy_diff"] and "radians" in c["numpy_diff"]
    assert "sign" in c["numpy_data"] and "logsumexp" in c["scipy_diff"]
    assert "logpdf" in c["scipy_methods"]["norm"]
    assert c["count"] >= 200 and c["count_names"] >= c["count"]
    assert supported.parse_block(supported.render())["scipy_methods"] == c["scipy_methods"]
