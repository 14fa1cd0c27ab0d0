"""Scenario descriptions: a description that cannot be read is a problem naming the file, never dropped."""
from __future__ import annotations

import pytest
import yaml

from model.errors import InputErrors
from model.scenario import load_scenario
from toy import write_inputs


def test_a_scenario_description_that_is_not_text_is_refused_naming_the_file(tmp_path):
    folder = write_inputs(tmp_path / "in")
    (folder / "scenarios" / "odd.yaml").write_text(yaml.safe_dump({"description": {"a": 1},
                                                                    "set": {"pue": {"value": "1.2",
                                                                                    "source": "assumption: toy"}}}))
    with pytest.raises(InputErrors) as exc:
        load_scenario(folder, scenario="odd")
    e = exc.value.errors[0]
    assert e.file.endswith("odd.yaml") and e.field == "description" and "a text" in str(e)


def test_an_unreadable_scenario_is_listed_with_its_problem(tmp_path):
    from model.scenario import available_scenarios

    folder = write_inputs(tmp_path / "in")
    (folder / "scenarios" / "broken.yaml").write_text("description: [unclosed\n")
    listed = available_scenarios(folder)["broken"]
    assert listed.startswith("(unreadable: ParserError") and "flow sequence" in listed
