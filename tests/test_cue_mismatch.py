"""The local stage's cue-mismatch training: beside each cue the noisy input shows the dance from elsewhere."""
import numpy as np
import torch

from lodge.train.cue_mismatch import MISMATCH_REACH, distance_to_cues, mismatch_near_cues, random_shifts
from lodge.train.trainer import Trainer, TrainSettings

from test_train import corpus  # noqa: F401  (the module-scoped toy corpus)


def _mask(t: int, *runs: tuple[int, int]) -> torch.Tensor:
    mask = torch.zeros(1, t, dtype=torch.bool)
    for a, b in runs:
        mask[0, a:b] = True
    return mask


def test_distance_to_cues_counts_frames_to_the_nearest_cue_frame():
    mask = torch.cat([_mask(10, (3, 5)), _mask(10)])
    assert distance_to_cues(mask)[0].tolist() == [3, 2, 1, 0, 0, 1, 2, 3, 4, 5]
    assert distance_to_cues(mask)[1].tolist() == [10] * 10  # no cue at all


def test_frames_beside_a_cue_come_from_shift_frames_away_fading_out_over_the_reach():
    t = 200
    motion = torch.arange(t, dtype=torch.float32)[None, :, None].repeat(1, 1, 3)  # frame index as the value
    mask = _mask(t, (100, 108))
    out = mismatch_near_cues(motion, mask, torch.tensor([20]))
    assert torch.equal(out[0, 100:108], motion[0, 100:108])  # the cue itself is kept
    assert out[0, 99, 0] == 119 and out[0, 108, 0] == 128  # in full next to the cue
    far = torch.ones(t, dtype=torch.bool)
    far[100 - MISMATCH_REACH:108 + MISMATCH_REACH] = False
    assert torch.equal(out[0, far], motion[0, far])  # untouched beyond the reach
    lag = (out[0, 108:108 + MISMATCH_REACH, 0] - motion[0, 108:108 + MISMATCH_REACH, 0]).numpy()
    assert np.all(np.diff(lag) <= 0) and lag[-1] < 1.0  # fades out


def test_no_shift_or_no_cue_leaves_the_motion_as_it_is():
    motion = torch.randn(2, 64, 5)
    mask = torch.cat([_mask(64, (30, 38)), _mask(64)])
    assert torch.equal(mismatch_near_cues(motion, mask, torch.tensor([0, 12])), motion)


def test_random_shifts_are_zero_or_8_to_32_frames_either_way():
    shifts = random_shifts(4000, 0.5, np.random.default_rng(0)).numpy()
    on = shifts != 0
    assert 0.45 < on.mean() < 0.55
    assert np.abs(shifts[on]).min() >= 8 and np.abs(shifts[on]).max() <= 32
    assert (shifts > 0).any() and (shifts < 0).any()
    assert not random_shifts(100, 0.0, np.random.default_rng(0)).any()


def test_the_local_trainer_noises_the_mismatched_motion_and_learns_the_real_one(corpus, tmp_path):  # noqa: F811
    seen = {}
    for prob in (0.0, 1.0):
        settings = TrainSettings(stage="local", data=str(corpus), out=str(tmp_path / f"p{prob}"), preset="tiny_patched",
                                 steps=1, batch_size=4, save_every=10, cue_mismatch_prob=prob)
        trainer = Trainer(settings, log=lambda m: None)
        assert trainer.model.cue_input
        q_sample = trainer.diffusion.q_sample
        calls = []

        def spy(x0, t, noise, calls=calls, q_sample=q_sample):
            calls.append(x0.detach().clone())
            return q_sample(x0, t, noise)

        trainer.diffusion.q_sample = spy
        losses = trainer.train_step()
        assert np.isfinite(losses["total"])
        seen[prob] = calls[0]
    # The same batch (same seeds) is noised as it is without the mismatch, and differently with it.
    assert not torch.equal(seen[0.0], seen[1.0])
