"""Skills learnt from the file for shape fusion: the box clustering made once and re-voted
(box_clusters.BoxClusters), the gold grades behind the two box skills, and the command line's use of
them."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from consensus.algorithms.box_clusters import cluster_boxes_many
from consensus.algorithms.boxes import fuse_boxes_many
from consensus.algorithms.grading import box_grades
from consensus.algorithms.simulate import LABELS, MIXES, make_crowd, simulate_boxes

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def crowd_batch():
    crowd = make_crowd(MIXES["adversarial"], 20, seed=7)
    images = simulate_boxes(120, crowd, workers_per_image=5, max_objects=12, seed=8)
    rng = np.random.default_rng(9)
    p, q = rng.uniform(0.2, 0.98, 20), rng.uniform(0.2, 0.98, 20)
    answers = [[(a.shapes, a.labels) for a in im.answers] for im in images]
    slot_worker = np.array([a.worker for im in images for a in im.answers])
    tasks = [
        (ans, [p[a.worker] for a in im.answers], [q[a.worker] for a in im.answers])
        for ans, im in zip(answers, images, strict=True)
    ]
    return answers, tasks, p[slot_worker], q[slot_worker]


def test_revoting_one_clustering_grades_workers_as_fusing_again(crowd_batch):
    # given a batch fused the usual way
    answers, tasks, p, q = crowd_batch
    fused = fuse_boxes_many(tasks, LABELS)
    # when the clustering is made once and voted with the same skills
    clusters = cluster_boxes_many(answers, LABELS)
    agreement = clusters.agreement(p, q)
    refused = clusters.fuse(LABELS, p, q)
    # then every worker's agreement and every fused box are the same
    np.testing.assert_array_equal(agreement.f1, np.concatenate([f.agreement for f in fused]))
    assert [[(o.label, o.bbox, o.confidence) for o in f.objects] for f in refused] == [
        [(o.label, o.bbox, o.confidence) for o in f.objects] for f in fused
    ]
    assert [f.confidence for f in refused] == [f.confidence for f in fused]


def test_presence_agreement_ignores_labels_and_counts_the_right_ones(crowd_batch):
    answers, _, p, q = crowd_batch
    agreement = cluster_boxes_many(answers, LABELS).agreement(p, q)
    assert (agreement.presence >= agreement.f1).all()
    assert (agreement.right_label <= agreement.hits).all()
    assert (agreement.presence > agreement.f1).any()  # some boxes found with a wrong label


def test_an_empty_batch_clusters_to_nothing():
    agreement = cluster_boxes_many([], LABELS).agreement(np.zeros(0))
    assert agreement.f1.shape == (0,)


def test_box_grades_separate_finding_a_box_from_naming_it():
    reference = [
        {"label": "car", "bbox": [0, 0, 10, 10]},
        {"label": "bus", "bbox": [50, 0, 10, 10]},
    ]
    answer = [{"label": "bus", "bbox": [0, 0, 10, 10]}, {"label": "bus", "bbox": [50, 1, 10, 10]}]
    f1, presence, share = box_grades(answer, reference, 0.5)
    assert (f1, presence, share) == (0.5, 1.0, 0.5)
    assert np.isnan(box_grades([], reference, 0.5)[2])


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin"},
    )


def test_a_worker_who_finds_boxes_but_misnames_them_still_places_them(tmp_path):
    # given c finds every object but names each one wrongly, and s draws at random
    rng = np.random.default_rng(3)
    lines = []
    for task in range(40):
        truth = [([float(x), 10.0, 30.0, 30.0], "car") for x in (10, 100, 200)]
        for worker, jitter in (("a", 1.0), ("b", 1.0), ("c", 0.2)):
            boxes = [
                {
                    "label": "bus" if worker == "c" else label,
                    "bbox": [round(v + rng.normal(0, jitter), 2) for v in box[:2]] + box[2:],
                }
                for box, label in truth
            ]
            lines.append({"task": task, "worker": worker, "boxes": boxes})
        spam = [{"label": "bus", "bbox": [float(rng.uniform(0, 300)), 200.0, 20.0, 20.0]}]
        lines.append({"task": task, "worker": "s", "boxes": spam})
    answers = tmp_path / "a.jsonl"
    answers.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    skills_out = tmp_path / "s.csv"
    # when
    code = "from consensus.cli.main import main; import sys; sys.exit(main(sys.argv[1:]))"
    result = run(
        "-c", code, "aggregate", str(answers), "--kind", "bbox", "--skills-out", str(skills_out)
    )
    # then every object is found, named car, and the spammer weighs least
    assert result.returncode == 0, result.stderr
    fused = [json.loads(line) for line in result.stdout.splitlines()]
    assert all([b["label"] for b in row["boxes"]] == ["car"] * 3 for row in fused)
    skills = dict(line.split(",") for line in skills_out.read_text().splitlines()[1:])
    assert float(skills["s"]) < 0.2 < 0.8 < float(skills["c"])


def test_a_box_run_never_loads_scipy(tmp_path):
    answers = tmp_path / "a.jsonl"
    answers.write_text(
        '{"task": 1, "worker": "a", "boxes": [{"label": "car", "bbox": [1, 2, 3, 4]}]}\n'
    )
    code = (
        "import sys, io, contextlib; from consensus.cli.main import main; "
        "contextlib.redirect_stdout(io.StringIO()).__enter__(); "
        f"assert main(['aggregate', {str(answers)!r}, '--kind', 'bbox']) == 0; "
        "assert not [m for m in sys.modules if m.startswith('scipy')], 'scipy loaded'"
    )
    result = run("-c", code)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("kind", ["bbox", "polygon"])
def test_gold_lowers_the_skill_of_workers_it_shows_wrong(tmp_path, kind):
    # given everyone agrees on ten tasks, and on the gold task only c drew the object
    def shape(x: float) -> dict:
        if kind == "bbox":
            return {"label": "car", "bbox": [x, 10.0, 30.0, 30.0]}
        return {"label": "car", "points": [[x, 10.0], [x + 30, 10.0], [x + 30, 40.0], [x, 40.0]]}

    key = "boxes" if kind == "bbox" else "polygons"
    lines = [{"task": t, "worker": w, key: [shape(10.0)]} for t in range(10) for w in "abc"]
    lines += [{"task": "g", "worker": w, key: [shape(200.0 if w == "c" else 10.0)]} for w in "abc"]
    answers, gold, skills_out = tmp_path / "a.jsonl", tmp_path / "g.jsonl", tmp_path / "s.csv"
    answers.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    gold.write_text(json.dumps({"task": "g", key: [shape(200.0)]}) + "\n")
    # when
    code = "from consensus.cli.main import main; import sys; sys.exit(main(sys.argv[1:]))"
    argv = ["aggregate", str(answers), "--kind", kind, "--gold", str(gold)]
    result = run("-c", code, *argv, "--skills-out", str(skills_out))
    # then
    assert result.returncode == 0, result.stderr
    skills = dict(line.split(",") for line in skills_out.read_text().splitlines()[1:])
    assert float(skills["a"]) == float(skills["b"]) < float(skills["c"])
