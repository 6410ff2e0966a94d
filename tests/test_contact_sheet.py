"""benchmarks/contact_sheet.py: frame spacing, layout and size limit (one tiny render)."""

import numpy as np

from fixtures.benchmarks import load_benchmark

sheet = load_benchmark("contact_sheet")


def test_frames_are_one_second_apart_or_closer_when_short():
    assert list(sheet.frame_indices(1000, 12, 1.0)) == list(334 + 30 * np.arange(12))
    short = sheet.frame_indices(210, 12, 1.0)
    assert short[0] >= 0 and short[-1] <= 209 and len(set(np.diff(short))) == 1 and np.diff(short)[0] == 19


def test_sheet_layout_and_size(tmp_path):
    from lodge.motion import rest_motion

    motion = rest_motion(40)
    motion[:, 5] += np.linspace(0, 0.3, 40)  # rises: the two rendered frames differ
    rows = [sheet.render_row(motion, np.array([0, 39]), 64), [np.zeros((64, 64, 3), np.uint8)] * 2]
    assert rows[0][0].shape == (64, 64, 3) and not np.array_equal(rows[0][0], rows[0][1])
    image = sheet.compose(rows, ["A", "B"], np.array([0.0, 1.3]), "title")
    assert image.size == (sheet.LABEL_W + 2 * 64, sheet.HEADER_H + 2 * 64)
    path = tmp_path / "s.jpg"
    assert sheet.save_small(image, path, max_bytes=150 * 1024) <= 150 * 1024


def test_the_real_dancer_starts_facing_the_camera_where_the_generated_one_does():
    from lodge.constants import ROOT_SLICE
    from lodge.motion import heading, planar_transform, rest_motion

    take = planar_transform(rest_motion(5), 2.0, [3.0, -1.0])  # a take facing away, off the origin
    turned = sheet.facing_the_camera(take)
    np.testing.assert_allclose(heading(turned), 0.0, atol=1e-5)
    np.testing.assert_allclose(turned[:, ROOT_SLICE], rest_motion(5)[:, ROOT_SLICE], atol=1e-5)
