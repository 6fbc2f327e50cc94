"""Seek-based clip reading vs a full decode on the real sample videos."""
from __future__ import annotations

import time

from course.data import bigbuckbunny_path, bikes_path, carphone_path
from course.video import DecodeStats, evenly_spaced_indices, read_all_frames, read_clip, video_info


def main() -> None:
    print(f"{'video':<24}{'frames':>7}{'sampled':>8}{'decoded':>8}{'seek (s)':>10}{'full (s)':>10}")
    for path in (bikes_path(), carphone_path(), bigbuckbunny_path()):
        info = video_info(path)
        for num in (4, 8, 16):
            stats = DecodeStats()
            t0 = time.perf_counter()
            read_clip(path, evenly_spaced_indices(info.num_frames, num), stats=stats)
            seek = time.perf_counter() - t0
            t0 = time.perf_counter()
            read_all_frames(path)
            full = time.perf_counter() - t0
            print(f"{path.name:<24}{info.num_frames:>7}{num:>8}{stats.frames_decoded:>8}{seek:>10.3f}{full:>10.3f}")


if __name__ == "__main__":
    main()
