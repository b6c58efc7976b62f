from medillama import DISCLAIMER
from medillama.answer import FIELDS, format_answer, parse_answer


def sample():
    return format_answer("Malaria", "Fever with chills and sweating fits malaria.", ["Consult nearest hospital",
                         "avoid oily food", "keep mosquitos out"], "See a doctor within 24 hours.",
                         "Local name: malaria bukhar. Programme: NCVBDC.")


def test_round_trip():
    a = sample()
    assert a.endswith(DISCLAIMER)
    p = parse_answer(a)
    assert p["complete"] and p["sections_found"] == 5
    assert p["condition"] == "Malaria" and p["see_doctor"] == "See a doctor within 24 hours."
    assert p["precaution_list"] == ["consult nearest hospital", "avoid oily food", "keep mosquitos out"]
    assert p["trailing"] == DISCLAIMER


def test_missing_and_reordered_sections():
    p = parse_answer("Why: high fever\nLikely condition: Dengue\nIndia notes: NCVBDC")
    assert p["condition"] == "Dengue" and p["why"] == "high fever" and p["india_notes"] == "NCVBDC"
    assert p["precautions"] is None and p["see_doctor"] is None
    assert p["sections_found"] == 3 and not p["complete"]


def test_markdown_and_case_tolerated():
    p = parse_answer("**Likely Condition:** Typhoid\n- **why**: long fever\n* See a doctor - today")
    assert (p["condition"], p["why"], p["see_doctor"]) == ("Typhoid", "long fever", "today")


def test_garbage_and_empty():
    for text in ("", None, "I think you have a cold, drink water.", "Likely condition:"):
        p = parse_answer(text)
        assert set(FIELDS) <= set(p) and not p["complete"]
    assert parse_answer("Likely condition:")["condition"] is None


def test_repeated_section_first_wins_and_runaway_kept_apart():
    p = parse_answer("Likely condition: GERD\nLikely condition: Malaria\n")
    assert p["condition"] == "GERD"


def test_answer_leads_with_the_decision():
    """Condition, then urgency: the two lines the decision rows drill and the first thing a patient reads."""
    from medillama.training_data import decision_lines

    lines = sample().split("\n")
    assert lines[0] == "Likely condition: Malaria" and lines[1] == "See a doctor: See a doctor within 24 hours."
    assert decision_lines(sample()) == "\n".join(lines[:2]) + "\n"
    assert [line.split(":")[0] for line in lines[2:5]] == ["Why", "Precautions", "India notes"]
