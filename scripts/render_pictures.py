"""Render the README pictures from the bundled sample conversation into docs/images/.

Run: python scripts/render_pictures.py
The screenshot of the interactive graph needs headless Chromium (Debian: apt-get install chromium);
without it that picture is left as it is.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from PIL import Image  # noqa: E402  (pillow comes with matplotlib)

from graphmem import Memory, plots  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "docs" / "images"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, Memory.open(Path(tmp) / "store", namespace="pictures") as memory:
        with resources.as_file(resources.files("graphmem").joinpath("data", "sample_conversation.json")) as sample:
            memory.ingest(sample)
        pictures = {
            "entity_neighbourhood.png": plots.draw_graph(memory.to_networkx(entity="Biscuit"), title="Biscuit: events it takes part in"),
            "episode_timeline.png": plots.plot_episode_timeline(memory),
            "topic_map.png": plots.plot_topic_map(memory, "event"),
        }
        hits = memory.search("Which animal did Tom take camping in Wales?", k=3, strategy="activation")
        pictures["why_this_memory.png"] = plots.plot_explanation(memory, hits[0])
        for name, figure in pictures.items():
            figure.savefig(OUT / name, dpi=90)
            print("wrote", OUT / name)
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if chromium is None:
            print("no chromium: interactive_graph.png not rendered")
            return
        page = Path(tmp) / "graph.html"
        memory.show(entity="Biscuit", height=520).save_html(page)
        shot = OUT / "interactive_graph.png"
        entity = tuple(int(plots.KIND_COLOURS["entity"][i:i + 2], 16) for i in (1, 3, 5))
        for _ in range(3):  # on a loaded machine headless Chromium now and then shoots before the canvas is painted
            subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={Path(tmp) / 'profile'}",
                            "--virtual-time-budget=5000", "--window-size=1100,600", f"--screenshot={shot}",
                            page.as_uri()], check=True, capture_output=True, timeout=120)
            with Image.open(shot) as image:
                painted = sum(count for count, pixel in image.convert("RGB").getcolors(1 << 20) if pixel == entity)
            if painted > 1000:
                print("wrote", shot)
                return
        print("the screenshot of the interactive graph came out blank three times:", shot)


if __name__ == "__main__":
    main()
