"""The page's "Edit this dance" panel: re-roll segments, copy a move, a genre per stretch, undo and the
versions list, each edit a named API endpoint (``/reroll``, ``/copy_move``, ``/restyle``, ``/undo``).

The work is :class:`lodge_app.edits.Editor`'s; this module is the Gradio side: the components, the
handlers (generators: the timeline, 3D view and dance.npz show as soon as the motion exists, the video
follows) and their wiring. A session's versions live in a ``gr.State``.
"""
from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from . import edits
from .errors import UserError, without_paths
from .estimate import ProgressReport

log = logging.getLogger("lodge_app")

DICE_ICON = Path(__file__).resolve().parent / "assets" / "dice.svg"  # 🎲 as a picture: it shows without emoji fonts
MOVES = [("New transitions (same moves)", "transitions"), ("New moves", "moves")]
CONCURRENCY_ID = "dance"  # generations and edits share one queue slot: one diffusion at a time
N_EDIT_OUTPUTS = 9  # what _show returns: dance.npz, video, timeline, GLB, downloads, summary, versions, segments, state


@dataclass
class EditPanel:
    """The panel's components."""

    accordion: gr.Accordion
    state: gr.State
    versions: gr.Dropdown
    undo: gr.Button
    segments: gr.CheckboxGroup
    seed: gr.Number
    dice: gr.Button
    moves: gr.Radio
    reroll: gr.Button
    copy_from: gr.Number
    copy_to: gr.Number
    mirrored: gr.Checkbox
    copy: gr.Button
    schedule: gr.Textbox
    restyle: gr.Button
    dance_file: gr.File  # API only: a dance.npz to edit instead of the session's
    music: gr.File  # API only: its music, for the video's sound track
    dance_out: gr.File  # API only: the new version's dance.npz


def build(genres: list[str]) -> EditPanel:
    """The panel's components, placed where this is called (hidden until a dance exists)."""
    with gr.Accordion("Edit this dance", open=True, visible=False, elem_id="lodge-edit") as accordion:
        gr.Markdown("Keep what you like and regenerate the rest: every edit makes a new version, and every "
                    "frame outside the edited stretch (orange on the timeline and in the video) stays as it was.",
                    elem_id="lodge-edit-help")
        with gr.Row(equal_height=False, elem_id="lodge-versions-row"):
            versions = gr.Dropdown(label="Versions", choices=[], interactive=True, scale=4, elem_id="lodge-versions",
                                   info="Choose one to watch it and download its files; edits start from it.")
            undo = gr.Button("↶ Undo", scale=1, min_width=90, elem_id="lodge-undo")
        segments = gr.CheckboxGroup(label="Segments to re-roll (8.5 s each; the dashed joins on the timeline)",
                                    choices=[], elem_id="lodge-segments")
        with gr.Row(equal_height=False, elem_id="lodge-reroll-row"):
            seed = gr.Number(value=1, precision=0, label="Edit seed", minimum=0, scale=2, elem_id="lodge-edit-seed",
                             info="A new one is drawn after each edit.")
            dice = gr.Button("Random", icon=str(DICE_ICON), scale=0, min_width=110, elem_id="lodge-edit-dice")
            moves = gr.Radio(MOVES, value="transitions", label="Re-roll makes", scale=4, elem_id="lodge-moves")
        reroll = gr.Button("Re-roll the chosen segments", variant="primary", elem_id="lodge-reroll")
        with gr.Row(equal_height=False, elem_id="lodge-copy-row"):
            copy_from = gr.Number(value=0, label="Copy the move at (s)", minimum=0, elem_id="lodge-copy-from")
            copy_to = gr.Number(value=0, label="to the beat nearest (s)", minimum=0, elem_id="lodge-copy-to")
            mirrored = gr.Checkbox(value=False, label="mirrored", elem_id="lodge-mirrored")
            copy = gr.Button("Copy move", elem_id="lodge-copy")
        with gr.Row(equal_height=False, elem_id="lodge-restyle-row"):
            schedule = gr.Textbox(label="Genre per stretch", placeholder="salsa, 60: breaking", scale=4,
                                  elem_id="lodge-schedule",
                                  info=f"A genre, then 'SECONDS: genre' for each change. Known: {', '.join(genres)}.")
            restyle = gr.Button("Apply genres", scale=1, min_width=110, elem_id="lodge-restyle")
        dance_file = gr.File(label="dance.npz to edit", file_types=[".npz"], visible=False)
        music = gr.File(label="its music", visible=False)
        dance_out = gr.File(label="this version's dance.npz", visible=False)
    state = gr.State(None)
    return EditPanel(accordion, state, versions, undo, segments, seed, dice, moves, reroll, copy_from, copy_to,
                     mirrored, copy, schedule, restyle, dance_file, music, dance_out)


def page_error(err: UserError) -> gr.Error:
    """A :class:`UserError` as the page's toast (the title leads the message too, as in ``/generate``)."""
    return gr.Error(f"{err.title}: {without_paths(str(err))}", title=err.title, print_exception=False)


def _unexpected(err: Exception) -> gr.Error:
    log.exception("unexpected failure in an edit")
    return gr.Error(f"Something went wrong ({type(err).__name__}). The details are in the server log; "
                    "please try again.", title="Unexpected error")


def _show(history, v, video=True) -> tuple:
    """The outputs of every edit event: dance.npz, video, timeline, GLB, downloads, summary, the versions
    list, the segments, the state."""
    files = [p for p in v["files"] if Path(p).is_file()]
    return (v["npz"], v["video"] if video else None, v["timeline"], v["glb"], files, v["summary"],
            gr.update(choices=edits.version_choices(history), value=v["n"]),
            gr.update(choices=edits.segment_choices(v)), history)


def _unchanged() -> tuple:
    """Every output of an edit event left as it is."""
    return tuple(gr.skip() for _ in range(N_EDIT_OUTPUTS))


def _file(value) -> str | None:
    """A file input's path (the edit events skip Gradio's preprocessing, which would refuse a segment
    outside the choices or a seed under the minimum with its own words: the library says what is wrong)."""
    return value.get("path") if isinstance(value, dict) else value


def _segments(values) -> list:
    """The checked segments as numbers ("3" from an API client too)."""
    values = [] if values is None else values if isinstance(values, (list, tuple)) else [values]
    return [int(v) if isinstance(v, str) and v.strip().isdigit() else v for v in values]


def make_handlers(editor: edits.Editor):
    """The panel's callbacks (their argument names are the API's parameter names)."""

    def run(history, op, kwargs, dance_file, music, progress):
        try:
            for history, v in editor.edit(history, op, kwargs, _file(dance_file), _file(music),
                                          ProgressReport(progress)):
                yield _show(history, v, video=v["video"] is not None)
        except UserError as err:
            raise page_error(err) from err
        except gr.Error:
            raise
        except Exception as err:  # noqa: BLE001 - never show a traceback on the page
            raise _unexpected(err) from err

    def reroll(segments, seed, moves, dance_file=None, music=None, history=None, progress=gr.Progress()):
        """Regenerate the chosen segments with `seed`: new transitions between the same moves, or
        (moves="moves") new moves too; every other frame stays. Edits `dance_file` when sent, else this
        session's current version."""
        if not _segments(segments):
            raise page_error(UserError("Tick at least one segment to re-roll (the list under the timeline).",
                                       title="No segment chosen"))
        kwargs = dict(segments=_segments(segments), seed=seed, new_moves=str(moves).lower().startswith("move"))
        yield from run(history, "reroll", kwargs, dance_file, music, progress)

    def copy_move(source_seconds, target_seconds, mirrored, seed, dance_file=None, music=None, history=None,
                  progress=gr.Progress()):
        """Copy the move shown at `source_seconds` (optionally mirrored) to the beat nearest `target_seconds`."""
        kwargs = dict(source_seconds=source_seconds, target_seconds=target_seconds, mirrored=bool(mirrored), seed=seed)
        yield from run(history, "copy_move", kwargs, dance_file, music, progress)

    def restyle(schedule, seed, dance_file=None, music=None, history=None, progress=gr.Progress()):
        """A genre per stretch ("salsa, 60: breaking"): the segments whose genre changes are regenerated."""
        yield from run(history, "restyle", dict(schedule=str(schedule or ""), seed=seed), dance_file, music, progress)

    def undo(history=None):
        """Back to the version the current one was made from; shows it."""
        try:
            history = edits.undo(history)
            return _show(history, _existing(edits.version(history)))
        except UserError as err:
            raise page_error(err) from err

    def choose(chosen, history=None):
        """Show version `chosen` (its video, timeline and downloads); later edits start from it."""
        # The list fires this on every blur too (Gradio's dropdown does), racing an Undo clicked right
        # after it: choosing the version already shown changes nothing.
        if history and chosen is not None and str(chosen) == str(history.get("current")):
            return _unchanged()
        try:
            history = edits.choose(history, chosen)
            return _show(history, _existing(edits.version(history)))
        except UserError as err:
            raise page_error(err) from err

    return reroll, copy_move, restyle, undo, choose


def _existing(v: dict) -> dict:
    """`v` if its files are still on the server; UserError if the cleaner removed them."""
    if not v.get("npz") or not Path(v["npz"]).is_file():
        raise UserError(f"The files of {v['label']} have been cleaned up; generate the dance again.",
                        title="Version expired")
    return v


def on_generated(history):
    """After a generation: the panel shows, with the new dance's segments and its one version."""
    if not history:
        return gr.update(), gr.update(), gr.update(), gr.update()
    v = edits.version(history)
    return (gr.Accordion(visible=True), v["npz"], gr.update(choices=edits.version_choices(history), value=v["n"]),
            gr.update(choices=edits.segment_choices(v), value=[]))


def wire(panel: EditPanel, editor: edits.Editor, shown: list) -> None:
    """Connect the panel; `shown`: the page's video, timeline, 3D view, downloads and summary."""
    reroll, copy_move, restyle, undo, choose = make_handlers(editor)
    p = panel
    outputs = [p.dance_out, *shown, p.versions, p.segments, p.state]
    video = shown[0]
    # preprocess=False: the values as sent (see _file), so the library's checks answer bad ones.
    common = dict(outputs=outputs, show_progress_on=[video], concurrency_id=CONCURRENCY_ID, preprocess=False)
    new_seed = dict(fn=lambda: random.randint(0, 2**31 - 1), outputs=p.seed, api_visibility="private", queue=False)
    api = [p.dance_file, p.music, p.state]
    # While an edit runs, Undo and the versions list wait: its video arrives after its first result, and
    # would otherwise land after an Undo clicked meanwhile and bring the edit back.
    lock = [p.undo, p.versions]
    for button, handler, inputs, name in ((p.reroll, reroll, [p.segments, p.seed, p.moves], "reroll"),
                                          (p.copy, copy_move, [p.copy_from, p.copy_to, p.mirrored, p.seed], "copy_move"),
                                          (p.restyle, restyle, [p.schedule, p.seed], "restyle")):
        edit = button.click(lambda: [gr.update(interactive=False)] * len(lock), None, lock, queue=False,
                            api_visibility="private").then(handler, [*inputs, *api], api_name=name, **common)
        edit.success(**new_seed)
        edit.then(lambda: [gr.update(interactive=True)] * len(lock), None, lock, queue=False,
                  api_visibility="private")
    p.undo.click(undo, [p.state], outputs, api_name="undo", queue=False)
    p.versions.input(choose, [p.versions, p.state], outputs, api_visibility="private", queue=False)
    p.dice.click(**new_seed)
