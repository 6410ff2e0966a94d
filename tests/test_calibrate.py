"""Per-genre sampling calibration: the config's factors, the sampler's per-item guidance, the search and the CLI."""
import json
import math

import numpy as np
import pytest
import torch

from fixtures.corpus import sine_dance, write_corpus
from lodge.checkpoint import load_checkpoint
from lodge.config import LodgeConfig
from lodge.diffusion import GaussianDiffusion
from lodge.train.calibrate import Search, calibrate

GENRES = ["salsa", "breaking", "modern"]


def test_config_checks_the_calibration_and_tells_the_scaled_speed():
    speeds = {"salsa": 0.4, "breaking": 0.9, "modern": 0.2}
    cfg = LodgeConfig.from_dict({**LodgeConfig.tiny(GENRES).to_dict(), "genre_speeds": speeds,
                                 "genre_calibration": {"modern": {"local_speed_scale": 0.5, "global_guidance_scale": 2}}})
    assert cfg.told_speed("modern") == pytest.approx(0.1)
    assert cfg.told_speed("modern", "global") == pytest.approx(0.2)  # the global stage keeps the genre's own
    assert cfg.told_speed("salsa") == pytest.approx(0.4)  # an uncalibrated genre is told its own speed
    assert cfg.calibration(2, "global_guidance_scale") == 2.0 and cfg.calibration("Breaking", "local_speed_scale") == 1.0
    assert LodgeConfig.from_dict(cfg.to_dict()).genre_calibration == cfg.genre_calibration
    base = {**LodgeConfig.tiny(GENRES).to_dict(), "genre_speeds": speeds}
    for bad, message in (({"tango": {"local_speed_scale": 1.0}}, "does not know"),
                         ({"salsa": {"speed": 1.0}}, "unknown keys"),
                         ({"salsa": {"local_speed_scale": 0.0}}, "must lie in"),
                         ({"salsa": {"genre_guidance_weight": -1.0}}, "weights must lie in"),
                         ({"salsa": {"mirror": 0.5}}, "switches must be 0 or 1"),
                         ({"salsa": {"genre_guidance_weight": 2.0}}, "genre dropout")):  # the tiny nets have no null genre
        with pytest.raises(ValueError, match=message):
            LodgeConfig.from_dict({**base, "genre_calibration": bad})
    # A genre's own genre guidance weight, else the checkpoint's; off (0) is a valid calibrated weight.
    nulls = {**base, "local": {**base["local"], "null_genre": True}, "global": {**base["global"], "null_genre": True},
             "genre_guidance_weight": 1.0, "genre_calibration": {"breaking": {"genre_guidance_weight": 4.0},
                                                                "modern": {"genre_guidance_weight": 0.0}}}
    guided = LodgeConfig.from_dict(nulls)
    assert [guided.genre_guidance(g) for g in GENRES] == [1.0, 4.0, 0.0]
    # A genre's one-stage weight takes the place of its weight (or the checkpoint's) in that stage only.
    local = LodgeConfig.from_dict({**nulls, "genre_calibration": {"breaking": {"genre_guidance_weight": 4.0,
                                                                               "local_genre_guidance_weight": 2.0},
                                                                  "modern": {"local_genre_guidance_weight": 3.0,
                                                                             "global_genre_guidance_weight": 8.0}}})
    assert [local.genre_guidance(g, "local") for g in GENRES] == [1.0, 2.0, 3.0]
    assert [local.genre_guidance(g, "global") for g in GENRES] == [1.0, 4.0, 8.0]
    with pytest.raises(ValueError, match="stage must be"):
        local.genre_guidance("modern", "both")
    for bad, message in (({"salsa": {"local_genre_guidance_weight": 11.0}}, "weights must lie in"),
                         ({"salsa": {"local_genre_guidance_weight": 2.0}}, "genre dropout"),
                         ({"salsa": {"global_genre_guidance_weight": 2.0}}, "genre dropout")):
        with pytest.raises(ValueError, match=message):
            LodgeConfig.from_dict({**base, "genre_calibration": bad})
    with pytest.raises(ValueError, match="not a calibration factor"):
        guided.calibration("breaking", "genre_guidance_weight")
    # Mirrored copies: on unless a genre's calibration switches them off.
    mirrors = LodgeConfig.from_dict({**base, "genre_calibration": {"modern": {"mirror": 0}, "salsa": {"mirror": 1}}})
    assert [mirrors.mirrors(g) for g in GENRES] == [True, True, False] and cfg.mirrors("modern")


def test_guidance_scale_weights_each_items_music_term_on_its_own():
    diffusion = GaussianDiffusion(1000)
    x = torch.randn(2, 13, 8, 5)
    cond = torch.randn(2, 13, 8, 5)
    uncond = torch.randn(2, 13, 8, 5)

    def denoise(x_t, t, drop_mask):
        n = x_t.shape[0] // 2
        return torch.where(drop_mask.view(-1, 1, 1, 1), uncond.repeat(n, 1, 1, 1), cond.repeat(n, 1, 1, 1))

    w = 4.0
    scaled = diffusion._guided_x0(denoise, x, 500, w, guidance_scale=torch.tensor([1.0, 2.0]))
    assert torch.allclose(scaled[0], cond[0] + (w - 1) * (cond[0] - uncond[0]))
    assert torch.allclose(scaled[1], cond[1] + 2 * (w - 1) * (cond[1] - uncond[1]))
    # With the pose kept apart (mean over axis -2), only how each primitive moves about it is scaled.
    pose = diffusion._guided_x0(denoise, x, 500, w, mean_guidance=(-2, 2.0), guidance_scale=torch.tensor([3.0, 1.0]))
    term = cond - uncond
    mean = term.mean(dim=-2, keepdim=True)
    assert torch.allclose(pose[0], cond[0] + 3 * (w - 1) * (term[0] - mean[0]) + (2.0 - 1) * mean[0], atol=1e-5)
    assert torch.allclose(diffusion._guided_x0(denoise, x, 500, w), diffusion._guided_x0(
        denoise, x, 500, w, guidance_scale=torch.ones(2)))


def test_targets_hold_the_real_dancers_fast_frame_speed_and_settings_are_checked(tmp_path):
    from lodge.data.dataset import load_corpus
    from lodge.evaluate.data import item_joints
    from lodge.metrics.realism import body_frame_speeds, frame_speeds
    from lodge.train.calibrate import CalibrationSettings, genre_targets

    corpus = write_corpus(tmp_path / "corpus", [("salsa", sine_dance(300, 1.0, seed=0)),
                                                ("salsa", sine_dance(300, 3.0, seed=1))], n_train=2)
    items = load_corpus(corpus, "train")
    target = genre_targets(items)["salsa"]
    # Body speed, the root's travel included: a dash across the floor counts as a whip does.
    speeds = np.concatenate([body_frame_speeds(item_joints(it)) for it in items])
    assert target.fast_speed == pytest.approx(np.percentile(speeds, 99))
    assert target.speed < target.fast_speed < speeds.max() + 1e-9
    assert target.peak_speed == pytest.approx(speeds.max())  # whips are held to the fastest real frame
    relative = np.concatenate([frame_speeds(item_joints(it)) for it in items])
    assert target.fast_speed != pytest.approx(np.percentile(relative, 99))
    for bad in ({"fast_share_limit": 0.0}, {"fast_share_limit": 1.5}, {"energy_target": 0.0}, {"peak_percentile": 101}):
        with pytest.raises(ValueError):
            CalibrationSettings(**bad)


def test_search_finds_a_power_law_factor_and_keeps_the_best_when_nothing_responds():
    search = Search((0.25, 4.0), response=1.0, min_response=0.15)
    measure = lambda f: 0.3 * f ** 1.6  # noqa: E731 - the measure / target at factor f
    factor = 1.0
    for _ in range(4):
        search.tried.append((factor, measure(factor)))
        factor = search.next()
    assert abs(math.log(measure(factor))) < 0.02
    flat = Search((0.4, 2.0), response=0.5, min_response=0.15)
    flat.tried += [(1.0, 1.8), (0.4, 1.79)]
    assert flat.next() == 1.0  # no response: a factor that gains next to nothing is not kept
    saturated = Search((0.4, 2.0), response=0.5, min_response=0.15)
    saturated.tried += [(1.0, 1.45), (0.48, 1.12), (0.4, 1.12)]
    assert saturated.next() == 0.48  # it worked down to 0.48 and no further
    repeated = Search((0.4, 2.0), response=0.5, min_response=0.15)
    repeated.tried += [(1.0, 1.31), (0.459, 1.175), (0.459, 1.175)]
    assert repeated.next() == 0.459  # the secant skips a repeated factor instead of guessing anew
    assert repeated.settled(0.46) and not repeated.settled(0.5)
    with pytest.raises(ValueError, match="unknown calibration factors"):
        calibrate(None, [], factors=["speed"])
    bounded = Search((0.4, 2.0), response=0.5, min_response=0.15)
    bounded.tried.append((1.0, 100.0))
    assert bounded.next() == 0.4
    # Measured on both sides of the target, the next factor lies between the two nearest it (the
    # session-20 breaker: the secant through the last two, both too slow, gave 1.23).
    bracketed = Search((0.25, 2.0), response=0.45, min_response=0.15)
    bracketed.tried += [(1.0, 1.24), (0.536, 0.704), (0.788, 0.837)]
    factor = bracketed.next()
    assert 0.788 < factor < 1.0
    assert factor == pytest.approx(0.788 * math.exp(math.log(1 / 0.837) * math.log(1 / 0.788) / math.log(1.24 / 0.837)))


def test_calibrate_cli_writes_factors_the_pipeline_then_uses(tmp_path, tiny_checkpoint, capsys):
    import shutil

    from lodge.cli import main
    from lodge.pipeline import LodgePipeline
    from lodge.stages.global_stage import global_guidance_scales
    from lodge.train.trainer import merge_checkpoints

    items = [(g, sine_dance(300, 1.0 + i, seed=i)) for i, g in enumerate(GENRES)]
    corpus = write_corpus(tmp_path / "corpus", items + items[:1], n_train=3)
    ckpt = tmp_path / "ckpt"
    shutil.copytree(tiny_checkpoint, ckpt)
    assert main(["calibrate", "--checkpoint", str(ckpt), "--data", str(corpus), "--primitive-items", "1",
                 "--primitive-seconds", "6", "--speed-items", "1", "--speed-seconds", "6", "--rounds", "2",
                 "--energy-target", "1.1"]) == 0
    calibration = json.loads((ckpt / "config.json").read_text())["genre_calibration"]
    assert sorted(calibration) == sorted(GENRES)
    measured = {}  # genre -> the guidance factors the search tried (from its log)
    for line in capsys.readouterr().out.splitlines():
        if ": global guidance scale " in line and " -> " in line:
            genre, rest = line.split(": global guidance scale ")
            measured.setdefault(genre, []).append(float(rest.split()[0]))
    for genre, factors in calibration.items():
        assert 0.25 <= factors["global_guidance_scale"] <= 4.0
        # Every factor written was measured: none is the search's next, untried guess.
        assert any(abs(math.log(factors["global_guidance_scale"] / f)) < 0.02 for f in measured[genre])
        # The tiny checkpoint's networks are not told a speed: its factor cannot move the dance.
        assert factors["local_speed_scale"] == 1.0
    loaded = load_checkpoint(ckpt)
    assert loaded.cfg.genre_calibration == calibration
    pipe = LodgePipeline.from_pretrained(ckpt, device="cpu")
    scales = global_guidance_scales(pipe, np.arange(len(loaded.cfg.genres)))
    expected = [calibration[g]["global_guidance_scale"] for g in loaded.cfg.genres]
    assert scales is None if all(e == 1.0 for e in expected) else np.allclose(scales.numpy(), expected)
    # A merge makes a new pair of networks: the calibration does not carry over.
    merged = merge_checkpoints(ckpt, ckpt, tmp_path / "merged")
    assert load_checkpoint(merged).cfg.genre_calibration is None
    assert main(["calibrate", "--checkpoint", str(tmp_path / "nothing"), "--data", str(corpus)]) != 0
    assert main(["calibrate", "--checkpoint", str(ckpt), "--data", str(corpus), "--speed-seconds", "2"]) != 0
    assert main(["calibrate", "--checkpoint", str(ckpt), "--data", str(corpus), "--energy-target", "0"]) != 0
    assert main(["calibrate", "--checkpoint", str(ckpt), "--data", str(corpus), "--genres", "tango"]) != 0


def test_genre_guidance_search_keeps_the_first_weight_that_spreads_enough(tmp_path, null_genre_checkpoint, capsys):
    import shutil

    from lodge.cli import main

    items = [(g, sine_dance(300, 1.0 + i, seed=i)) for i, g in enumerate(GENRES)]
    corpus = write_corpus(tmp_path / "corpus", items + items[:1], n_train=3)
    shutil.copytree(null_genre_checkpoint, tmp_path / "ck")
    args = ["calibrate", "--checkpoint", str(tmp_path / "ck"), "--data", str(corpus), "--speed-items", "1",
            "--speed-seconds", "6", "--factors", "genre_guidance_weight", "--genre-guidance-weights", "0", "1.5", "3"]

    def run(target: float) -> tuple[dict, dict]:
        assert main(args + ["--spread-target", str(target)]) == 0
        spreads: dict[str, list[tuple[float, float]]] = {}  # genre -> (weight, spread ratio) measured
        for line in capsys.readouterr().out.splitlines():
            if ": genre guidance weight " in line and " -> " in line:
                genre, rest = line.split(": genre guidance weight ")
                spreads.setdefault(genre, []).append((float(rest.split()[0]), float(rest.split("spread ")[1].split()[0])))
        return json.loads((tmp_path / "ck" / "config.json").read_text())["genre_calibration"], spreads

    calibration, spreads = run(0.01)  # every weight spreads enough: the first (off) is kept, nothing else tried
    assert all(calibration[g]["genre_guidance_weight"] == 0.0 and len(spreads[g]) == 1 for g in GENRES)
    calibration, spreads = run(100.0)  # none does: all are tried and the one that spread most is kept
    for genre in GENRES:
        assert [w for w, _ in spreads[genre]] == [0.0, 1.5, 3.0]
        assert calibration[genre]["genre_guidance_weight"] == max(spreads[genre], key=lambda p: p[1])[0]
    assert len({tuple(s for _, s in spreads[g]) for g in GENRES}) > 1  # the weights do move the dance
    assert main(args + ["--genre-guidance-weights", "-1"]) != 0


def test_mirror_search_keeps_the_copies_unless_the_dance_comes_nearer_without(tmp_path, tiny_checkpoint, capsys):
    import shutil

    from lodge.cli import main
    from lodge.pipeline import LodgePipeline

    items = [(g, sine_dance(300, 1.0 + i, seed=i)) for i, g in enumerate(GENRES)]
    corpus = write_corpus(tmp_path / "corpus", items + items[:1], n_train=3)
    shutil.copytree(tiny_checkpoint, tmp_path / "ck")
    assert main(["calibrate", "--checkpoint", str(tmp_path / "ck"), "--data", str(corpus), "--speed-items", "1",
                 "--speed-seconds", "6", "--factors", "mirror"]) == 0
    measured: dict[str, dict[str, float]] = {}  # genre -> {"on": measure, "off": measure}
    for line in capsys.readouterr().out.splitlines():
        if ": mirror " in line and " -> measure " in line:
            genre, rest = line.split(": mirror ")
            measured.setdefault(genre, {})[rest.split()[0]] = float(rest.split(" -> measure ")[1].split()[0])
    calibration = json.loads((tmp_path / "ck" / "config.json").read_text())["genre_calibration"]
    assert sorted(measured) == sorted(GENRES) and all(sorted(m) == ["off", "on"] for m in measured.values())
    for genre, m in measured.items():
        kept_on = abs(math.log(m["on"])) <= abs(math.log(m["off"]))
        assert calibration[genre] == {"mirror": 1.0 if kept_on else 0.0}
    assert len({m["on"] for m in measured.values()}) > 1 and any(m["on"] != m["off"] for m in measured.values())
    pipe = LodgePipeline.from_pretrained(tmp_path / "ck", device="cpu")
    assert [pipe.cfg.mirrors(g) for g in GENRES] == [bool(calibration[g]["mirror"]) for g in GENRES]


def test_told_speed_stays_at_or_above_the_genres_slowest_training_dances(tmp_path, tiny_checkpoint, capsys):
    from fixtures.speedy import speed_conditioned_copy
    from lodge.cli import main
    from lodge.data.dataset import load_corpus
    from lodge.train.calibrate import CalibrationSettings, genre_targets

    items = [(g, sine_dance(300, 1.0 + i, seed=i)) for i, g in enumerate(GENRES)]
    corpus = write_corpus(tmp_path / "corpus", items + items[:1], n_train=3)
    windows = {g: t.window_speeds for g, t in genre_targets(load_corpus(corpus, "train")).items()}
    assert all(len(w) >= 1 and (w > 0).all() for w in windows.values())
    # Salsa is told a speed under its training dances' slowest windows (its floor, about 1.2, lies
    # inside the bounds); breaking and modern ten times their fastest (a floor under the fixed bound).
    told = {"salsa": windows["salsa"].min() / 1.2, "breaking": 10 * windows["breaking"].max(),
            "modern": 10 * windows["modern"].max()}
    floor = np.percentile(windows["salsa"], CalibrationSettings().slow_window_percentile) / told["salsa"]
    assert 1.0 < floor < 2.0
    ckpt = speed_conditioned_copy(tiny_checkpoint, tmp_path / "ck", told)
    assert main(["calibrate", "--checkpoint", str(ckpt), "--data", str(corpus), "--speed-items", "1",
                 "--speed-seconds", "6", "--rounds", "2", "--factors", "local_speed_scale"]) == 0
    out = capsys.readouterr().out
    tried: dict[str, list[float]] = {}
    for line in out.splitlines():
        if ": local speed scale " in line and " -> " in line:
            genre, rest = line.split(": local speed scale ")
            tried.setdefault(genre, []).append(float(rest.split()[0]))
    assert f"salsa: told speed kept at or above {floor:.3f}" in out
    assert "breaking: told speed kept" not in out and "modern: told speed kept" not in out
    assert min(tried["salsa"]) >= floor - 1e-3  # the search starts at the floor and never goes under it
    calibration = json.loads((ckpt / "config.json").read_text())["genre_calibration"]
    assert calibration["salsa"]["local_speed_scale"] >= floor - 1e-3
