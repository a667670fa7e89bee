"""A requester gives instructions and label titles per language through the API; a worker's
lease carries them in the worker's language, each falling back to the original."""

from __future__ import annotations

import pytest

from annotations.translations import project_text

FRENCH = {"fr": {"instructions": "Encadrez chaque voiture.", "labels": {"car": "voiture"}}}


def create(client, **fields):
    body = {"name": "streets", "kind": "classification", "labels": ["car", "taxi"], **fields}
    return client.post("/api/v1/projects/", body, format="json")


def test_a_requester_sets_and_reads_translations(requester_client):
    response = create(requester_client, translations=FRENCH)
    assert response.status_code == 201, response.json()
    project_id = response.json()["id"]
    assert requester_client.get(f"/api/v1/projects/{project_id}/").json()["translations"] == FRENCH
    # when a later edit adds Swahili, checked against the labels the project keeps
    swahili = {**FRENCH, "sw": {"labels": {"taxi": "teksi"}}}
    patched = requester_client.patch(
        f"/api/v1/projects/{project_id}/", {"translations": swahili}, format="json"
    )
    assert patched.status_code == 200, patched.json()
    assert patched.json()["translations"]["sw"] == {"labels": {"taxi": "teksi"}}


BAD = [
    ("a list", [], "translations"),
    ("unknown language", {"xx": {}}, "translations.xx"),
    ("entry not an object", {"fr": "voiture"}, "translations.fr"),
    ("unknown part", {"fr": {"title": "x"}}, "translations.fr.title"),
    ("instructions not a string", {"fr": {"instructions": 3}}, "translations.fr.instructions"),
    ("blank instructions", {"fr": {"instructions": "  "}}, "translations.fr.instructions"),
    (
        "instructions too long",
        {"fr": {"instructions": "a" * 20_001}},
        "translations.fr.instructions",
    ),
    ("labels not an object", {"fr": {"labels": ["voiture"]}}, "translations.fr.labels"),
    ("a name not a label", {"fr": {"labels": {"truck": "camion"}}}, "translations.fr.labels.truck"),
    ("a title not a string", {"fr": {"labels": {"car": None}}}, "translations.fr.labels.car"),
    ("a title too long", {"fr": {"labels": {"car": "v" * 65}}}, "translations.fr.labels.car"),
    (
        "a control character",
        {"fr": {"labels": {"car": "voi\x00ture"}}},
        "translations.fr.labels.car",
    ),
]


@pytest.mark.parametrize(("case", "translations", "field"), BAD, ids=[b[0] for b in BAD])
def test_bad_translations_are_a_400_naming_the_field(requester_client, case, translations, field):
    response = create(requester_client, translations=translations)
    assert response.status_code == 400, case
    assert response.json()["error"]["field"] == field


def test_an_edit_naming_a_label_the_project_does_not_have_is_refused(requester_client):
    project_id = create(requester_client).json()["id"]
    response = requester_client.patch(
        f"/api/v1/projects/{project_id}/",
        {"translations": {"pt": {"labels": {"bus": "autocarro"}}}},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "translations.pt.labels.bus"


def test_project_text_falls_back_to_the_original_part_by_part(make_project):
    project = make_project(instructions="Pick the vehicle.", translations=FRENCH)
    french = project_text(project, "fr")
    assert french.instructions == "Encadrez chaque voiture."
    assert [(label["name"], label["title"]) for label in french.labels] == [
        ("car", "voiture"),
        ("taxi", "taxi"),
        ("truck", "truck"),
    ]
    # a regional variant finds its language; a language with no wording gets the original
    assert project_text(project, "fr-ca").instructions == "Encadrez chaque voiture."
    assert project_text(project, "sw").instructions == "Pick the vehicle."
    assert project_text(project, None).labels[0]["title"] == "car"


@pytest.mark.parametrize(
    ("accept_language", "instructions", "car"),
    [("fr", "Encadrez chaque voiture.", "voiture"), ("ha", "Pick the vehicle.", "car")],
)
def test_the_lease_speaks_the_workers_language(
    make_project, worker_client, accept_language, instructions, car
):
    make_project(instructions="Pick the vehicle.", translations=FRENCH)
    response = worker_client.post(
        "/api/v1/work/next/", {}, format="json", HTTP_ACCEPT_LANGUAGE=accept_language
    )
    assert response.status_code == 200
    lease = response.json()
    assert lease["instructions"] == instructions
    assert lease["labels"][0] == {"name": "car", "color": lease["labels"][0]["color"], "title": car}


def test_the_schema_documents_the_translations_field(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    field = schema["components"]["schemas"]["Project"]["properties"]["translations"]
    assert "instructions" in field["additionalProperties"]["properties"]
