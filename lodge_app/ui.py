"""The Gradio page: inputs on the left, the dance on the right, everything else under "Advanced"."""
from __future__ import annotations

import logging
import random
from dataclasses import replace
from pathlib import Path

import gradio as gr

from lodge.checks import MAX_ENERGY, MIN_ENERGY, format_duration

from . import edit_panel, edits, workspace
from .audio_info import probe_seconds
from .estimate import ProgressReport, format_seconds
from .errors import UserError, without_paths
from .options import MIN_SECONDS, SAMPLING_DEFAULTS, VIDEO_SIZES, Request, read_options
from .studio import Studio
from .settings import AppSettings

log = logging.getLogger("lodge_app")

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
AUDIO_SUFFIXES = (".mp3", ".wav", ".ogg", ".flac", ".m4a")
VIDEO_SIZE_LABELS = dict(zip(VIDEO_SIZES, ("Small", "Medium", "Large", "HD")))
MODEL3D_BACKDROP = (0.17, 0.19, 0.23, 1.0)  # RGBA of the 3D view's background
REFERENCE_SECONDS = 60.0  # the song length quoted in estimates before any music is chosen

CSS = """
.gradio-container { max-width: 1280px !important; margin: 0 auto !important; }
#lodge-header h1 { margin-bottom: 0.2em; }
#lodge-header p { margin: 0.25em 0; }
#lodge-limits p { font-size: 0.92em; opacity: 0.85; margin-top: 0; }
#lodge-generate { min-height: 52px; font-size: 1.1em; }
#lodge-estimate { font-size: 0.9em; opacity: 0.9; }
#lodge-seed-row { align-items: flex-end; }
#lodge-shuffle { max-width: 96px; min-width: 80px; margin-bottom: 6px; }
#lodge-summary thead { display: none; }
#lodge-summary table { width: 100%; }
#lodge-summary td:first-child { white-space: nowrap; width: 1%; padding-right: 1.2em; }
#lodge-model-error { border: 1px solid #D55E00; border-radius: 8px; padding: 0.6em 1em; background: #fff4ec; }
#lodge-versions-row, #lodge-reroll-row, #lodge-copy-row, #lodge-restyle-row { align-items: flex-end; }
#lodge-edit-dice { max-width: 130px; margin-bottom: 6px; }
#lodge-edit-dice img { width: 1.4em; height: 1.4em; }
#lodge-undo, #lodge-copy, #lodge-restyle { margin-bottom: 6px; }
#lodge-edit-help p { margin: 0 0 0.3em 0; font-size: 0.92em; }
footer { opacity: 0.7; }
"""


def example_songs(folder: Path = EXAMPLES_DIR) -> list[Path]:
    """The example music files shipped in `examples/`, sorted by name."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())


def _example_label(path: Path) -> str:
    """hiphop_basement_tape_95bpm.mp3 -> "Hiphop basement tape (95 BPM)"."""
    words = path.stem.split("_")
    bpm = next((w for w in words if w.lower().endswith("bpm") and w[:-3].isdigit()), None)
    text = " ".join(w for w in words if w != bpm).capitalize()
    return f"{text} ({bpm[:-3]} BPM)" if bpm else text


def _genre_for(path: Path, genres: list[str]) -> str | None:
    """The checkpoint genre named in an example's file name, else the first genre."""
    stem = path.stem.lower().replace("-", "").replace("_", " ")
    for g in genres:
        if g.lower().replace("-", "").replace("_", " ") in stem:
            return g
    return genres[0] if genres else None


def _ranges_checked_by_read_options(*components: gr.components.Component) -> None:
    """Let these inputs pass what the client sent straight to the handler: :func:`read_options` (with the
    library's checks) owns the ranges and answers an API client's out-of-range value with a sentence and a
    title, where Gradio's own check would say "Value 3 is less than minimum value 5.0." under the title "Error"."""
    for component in components:
        component.preprocess = lambda payload: payload  # type: ignore[method-assign]


def make_handlers(studio: Studio):
    """The page's callbacks, closed over the loaded studio."""

    def generate(music, genre, seed, length_mode, first_seconds, soft, quality, steps, camera, body,
                 video_size, video_fps, beat_sync=None, energy=None, progress=gr.Progress()):
        """Generate a dance for the music: the timeline, GLB, downloads so far and summary as soon as the
        motion exists, then the video and every download (and, for the edit panel, the session's new
        history of versions each time). An API client's ``predict`` gets the second."""
        try:
            options = read_options(genre, seed, length_mode, first_seconds, soft, quality, steps, camera, body,
                                   video_size, video_fps, beat_sync, energy, max_seconds=studio.settings.max_seconds)
            for result in studio.generate_steps(music, options, ProgressReport(progress)):
                history = edits.new_history(result, Path(music), options, workspace.safe_stem(Path(music).name))
                yield (str(result.video) if result.video else None,
                       str(result.timeline) if result.timeline else None,
                       str(result.glb) if result.glb else None, [str(p) for p in result.files], result.summary,
                       history)
        except UserError as err:
            # The title leads the message too: Gradio 6.31's page titles every toast of a queued event "Error"
            # (it reads `_title`), so the words that say what went wrong must be in the body as well.
            raise gr.Error(f"{err.title}: {without_paths(str(err))}", title=err.title, print_exception=False) from err
        except gr.Error:
            raise
        except Exception as err:  # noqa: BLE001 - never show a traceback on the page
            log.exception("unexpected failure")
            raise gr.Error(f"Something went wrong ({type(err).__name__}). The details are in the server log; "
                           "please try again or with other settings.", title="Unexpected error") from err

    def estimate(music, length_mode, first_seconds, quality, steps, video_size, video_fps, body) -> str:
        """The time estimate under the quality choice, for the chosen music (or a 1-minute song)."""
        if not studio.ready:
            return ""
        seconds = probe_seconds(music)
        known = seconds is not None
        seconds = seconds if known else REFERENCE_SECONDS
        try:
            base = read_options(studio.genres[0], None, length_mode, first_seconds, None, "ddim", steps, "follow", body,
                                video_size, video_fps, max_seconds=studio.settings.max_seconds)
        except UserError:  # half-typed values: no estimate until they make sense
            return ""
        duration = base.sampling.duration
        if duration:
            seconds = min(seconds, duration)
        fast = studio.estimate_seconds(seconds, base)
        ddpm = base.sampling.replace(sampler="ddpm", steps=None)
        full = studio.estimate_seconds(seconds, replace(base, sampling=ddpm))
        what = f"these {seconds:.0f} s of music" if known or duration else "a 1-minute song"
        chosen = "ddpm" if str(quality).startswith("ddpm") else "ddim"
        mark = {"ddim": ("**", ""), "ddpm": ("", "**")}[chosen]
        return (f"Estimated time here for {what}: {mark[0]}fast {format_seconds(fast)}{mark[0]} · "
                f"{mark[1]}full {format_seconds(full)}{mark[1]}")

    return generate, estimate


def limits_markdown(studio: Studio) -> str:
    """What music is accepted and how long a typical song takes here (refreshed on every page load)."""
    limits = (f"Music from {MIN_SECONDS:g} s up to {format_duration(studio.settings.max_seconds)} "
              "(wav, mp3, ogg, flac, m4a, or record with the microphone).")
    if studio.ready:
        ref = Request(genre=studio.genres[0])
        t = studio.estimate_seconds(REFERENCE_SECONDS, ref)
        from .gpu import describe_device

        limits += f" A 1-minute song takes {format_seconds(t)} on this machine ({describe_device(studio.device)})."
    return limits


def header_markdown() -> str:
    """Title and a one-paragraph explanation, shown at the top of the page."""
    return (
        "# Lodge Studio: music in, 3D dance out\n"
        "Turn a song into a 3D dance. Add music, pick a dance style and press **Generate**. "
        "The model first picks the key moves of the whole song, on its strong beats (*global diffusion*), "
        "then dances every 8.5-second stretch between them (*local diffusion*), following "
        "[Lodge (CVPR 2024)](https://arxiv.org/abs/2403.10518). "
        "Download the result as BVH, SMPL-X or GLB for Blender or a game engine."
    )


def build_demo(studio: Studio) -> gr.Blocks:
    """Build the page around a loaded (or failed-to-load) studio."""
    generate, estimate = make_handlers(studio)
    genres = studio.genres
    max_s = float(studio.settings.max_seconds)
    settings = studio.settings
    # Gradio deletes its cached files (uploads, results) on the same schedule as Studio's cleaner.
    with gr.Blocks(title="Lodge Studio · music to 3D dance", analytics_enabled=False,
                   delete_cache=(settings.clean_every_seconds, settings.keep_seconds)) as demo:
        gr.Markdown(header_markdown(), elem_id="lodge-header")
        limits = gr.Markdown(limits_markdown(studio), elem_id="lodge-limits")
        if not studio.ready:
            gr.Markdown(f"**The dance model is not loaded.** {studio.load_error}", elem_id="lodge-model-error")
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=320):
                music = gr.Audio(label="Music", sources=["upload", "microphone"], type="filepath",
                                 elem_id="lodge-music")
                songs = example_songs()
                genre = gr.Dropdown(choices=genres, value=genres[0] if genres else None, label="Dance genre",
                                    allow_custom_value=True,
                                    info="The styles this model has learned.", interactive=bool(genres),
                                    elem_id="lodge-genre")
                if songs:
                    gr.Examples(examples=[[str(p), _genre_for(p, genres)] for p in songs], inputs=[music, genre],
                                label="Example songs: click one to use it", example_labels=[_example_label(p) for p in songs])
                with gr.Accordion("Advanced", open=False, elem_id="lodge-advanced"):
                    with gr.Row(elem_id="lodge-seed-row"):
                        seed = gr.Number(value=SAMPLING_DEFAULTS.seed, precision=0, label="Seed", minimum=0,
                                         info="Same seed + same settings = same dance.", scale=4)
                        shuffle = gr.Button("Random", elem_id="lodge-shuffle", scale=1, size="md")
                    length_mode = gr.Radio([("Whole song", "whole"), ("First N seconds", "first")], value="whole",
                                           label="Length")
                    first_seconds = gr.Slider(MIN_SECONDS, max_s, value=min(30.0, max_s), step=1,
                                              label="N (seconds of music to use)", visible=False,
                                              elem_id="lodge-first-seconds")
                    soft = gr.Slider(0.0, 1.0, value=studio.default_soft, step=0.05, label="Soft-cue strength s",
                                     info="How strongly the song-wide key moves steer each segment (share of "
                                          "denoising steps that see them; the default is the model's best).")
                    energy = gr.Slider(MIN_ENERGY, MAX_ENERGY, value=SAMPLING_DEFAULTS.energy, step=0.05,
                                       label="Energy", visible=studio.follows_energy, elem_id="lodge-energy",
                                       info="How fast the dancer moves: 1 is the genre's typical speed, "
                                            "0.5 half as fast, 2 twice.")
                    quality = gr.Radio([("Fast (DDIM)", "ddim"),
                                        (f"Full (DDPM, {studio.estimator.ddpm_steps} steps)", "ddpm")],
                                       value=SAMPLING_DEFAULTS.sampler, label="Quality")
                    steps = gr.Slider(2, 200, value=SAMPLING_DEFAULTS.iterations(), step=1, label="DDIM steps",
                                      info="More steps: finer motion, slower.", elem_id="lodge-steps")
                    beat_sync = gr.Checkbox(value=SAMPLING_DEFAULTS.beat_sync, label="Sync moves to the beat",
                                            info="Nudge the finished dance in time (each accent moves at most 1/3 s) so "
                                                 "its accents land on the music's beats.",
                                            elem_id="lodge-beat-sync")
                    estimate_md = gr.Markdown(elem_id="lodge-estimate")
                    with gr.Row():
                        camera = gr.Radio([("Follow the dancer", "follow"), ("Fixed", "fixed")], value="follow",
                                          label="Camera")
                        bodies = studio.body_choices()
                        body = gr.Dropdown(bodies, value="mannequin", label="Body", info=studio.body_info(),
                                           elem_id="lodge-body")
                    with gr.Row():
                        video_size = gr.Dropdown([(f"{VIDEO_SIZE_LABELS[v]} · {v} px", v) for v in VIDEO_SIZES],
                                                 value=384 if studio.device == "cpu" else 512,
                                                 label="Video size", elem_id="lodge-size")
                        video_fps = gr.Radio([("30 fps", 30), ("15 fps (renders faster)", 15)], value=30,
                                             label="Video frame rate")
                run = gr.Button("Generate dance", variant="primary", elem_id="lodge-generate",
                                interactive=studio.ready)
            with gr.Column(scale=3, min_width=420):
                video = gr.Video(label="Dance video", elem_id="lodge-video", autoplay=False, height=460)
                timeline = gr.Image(label="Timeline: beats, segments and the dance primitives", type="filepath",
                                    interactive=False, elem_id="lodge-timeline")
                panel = edit_panel.build(genres)
                with gr.Row(equal_height=False):
                    # A dark backdrop: the viewer lights the mannequin bright and pale, which vanished on the
                    # page's near-white; its camera frames the whole dance, travel included.
                    model3d = gr.Model3D(label="3D view (drag to orbit)", elem_id="lodge-3d",
                                         height=300, clear_color=MODEL3D_BACKDROP, scale=1)
                    summary = gr.Markdown(elem_id="lodge-summary")
                files = gr.File(label="Downloads: video (MP4), BVH, SMPL-X parameters, animated GLB, raw dance.npz",
                                file_count="multiple", interactive=False, elem_id="lodge-files")

        inputs = [music, genre, seed, length_mode, first_seconds, soft, quality, steps, camera, body,
                  video_size, video_fps, beat_sync, energy]
        _ranges_checked_by_read_options(seed, first_seconds, soft, steps, video_size, video_fps, energy)
        shown = [video, timeline, model3d, files, summary]
        run.click(generate, inputs=inputs, outputs=[*shown, panel.state], api_name="generate",
                  show_progress_on=[video], concurrency_id=edit_panel.CONCURRENCY_ID).success(
            edit_panel.on_generated, panel.state, [panel.accordion, panel.dance_out, panel.versions, panel.segments],
            api_visibility="private", queue=False)
        edit_panel.wire(panel, edits.Editor(studio), shown)
        shuffle.click(lambda: random.randint(0, 2**31 - 1), outputs=seed, api_visibility="private", queue=False)
        length_mode.change(lambda m: gr.update(visible=m == "first"), length_mode, first_seconds,
                           api_visibility="private", queue=False)
        quality.change(lambda q: gr.update(visible=q == "ddim"), quality, steps, api_visibility="private",
                       queue=False)
        est_inputs = [music, length_mode, first_seconds, quality, steps, video_size, video_fps, body]
        for comp in est_inputs:
            comp.change(estimate, est_inputs, estimate_md, api_visibility="private", queue=False)
        demo.load(estimate, est_inputs, estimate_md, api_visibility="private", queue=False)
        demo.load(lambda: limits_markdown(studio), None, limits, api_visibility="private", queue=False)
    return demo


def theme() -> gr.themes.Base:
    """A calm theme with system fonts only (nothing is fetched from the internet)."""
    system = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial",
              "sans-serif"]
    mono = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]
    return gr.themes.Soft(primary_hue="orange", secondary_hue="blue", neutral_hue="slate", font=system,
                          font_mono=mono)


def launch(demo: gr.Blocks, settings: AppSettings, **kwargs):
    """Queue (one generation at a time) and serve the page; uploads over the size limit are refused
    (and their partial files deleted) by Gradio itself."""
    demo.queue(max_size=settings.queue_size, default_concurrency_limit=1)
    options = dict(server_name=settings.server_name, server_port=settings.server_port, theme=theme(), css=CSS,
                   allowed_paths=[str(EXAMPLES_DIR)], show_error=True,
                   max_file_size=int(settings.max_upload_mb * 1024 * 1024))
    options.update(kwargs)
    return demo.launch(**options)
