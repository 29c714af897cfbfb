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
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={Path(tmp) / 'profile'}",
                        "--virtual-time-budget=3000", "--window-size=1100,600", f"--screenshot={OUT / 'interactive_graph.png'}",
                        page.as_uri()], check=True, capture_output=True, timeout=120)
        print("wrote", OUT / "interactive_graph.png")


if __name__ == "__main__":
    main()
