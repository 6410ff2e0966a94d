"""The library's layers: what each part may import."""
import subprocess
import sys


def _imported_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_the_pipeline_imports_no_training_data_code():
    modules = _imported_after("import lodge.pipeline, lodge.post, lodge.export, lodge.metrics, lodge.metrics.realism")
    assert not {m for m in modules if m.startswith(("lodge.data", "lodge.train", "lodge.evaluate"))}


def test_lodge_never_imports_the_renderer_the_app_or_gradio():
    modules = _imported_after("import lodge, lodge.pipeline, lodge.cli, lodge.export, lodge.metrics, lodge.post")
    assert not {m for m in modules if m.split(".")[0] in ("renderer", "lodge_app", "gradio")}
