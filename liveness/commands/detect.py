"""``detect IMAGE|VIDEO``: find faces and write an annotated copy."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
from tqdm import tqdm

from ..detection import FaceDetector
from ..media import IMAGE_KINDS, iter_video, probe_video, read_image, sniff_file
from ..overlay import draw_faces
from ..pipeline import AnnotatedVideoWriter
from ..policy import DEFAULT_POLICY


def _face_dict(face) -> dict:
    return {"box": [round(v, 1) for v in face.box], "score": round(face.score, 4),
            "landmarks": [[round(float(x), 1), round(float(y), 1)] for x, y in face.landmarks]}


def _run(args) -> int:
    source = Path(args.input)
    if not source.is_file():
        raise FileNotFoundError(f"file not found: {source}")
    is_image = sniff_file(source) in IMAGE_KINDS
    detector = FaceDetector()
    if is_image:
        image = read_image(source)
        faces = detector.detect(image, max_side=args.max_side or DEFAULT_POLICY.document_max_side)
        out = Path(args.out or f"{source.stem}.faces.jpg")
        cv2.imwrite(str(out), draw_faces(image, faces))
        report = {"input": str(source), "output": str(out), "faces": [_face_dict(f) for f in faces]}
    else:
        info = probe_video(source)
        out = Path(args.out or f"{source.stem}.faces.mp4")
        writer = AnnotatedVideoWriter(out, info.fps)
        per_frame = []
        try:
            for frame in tqdm(iter_video(source), total=info.frame_count, unit="frame",
                              desc="detect", disable=args.json):
                faces = detector.detect(frame.image, max_side=args.max_side or 640)
                per_frame.append(len(faces))
                writer.write(draw_faces(frame.image, faces, label_scores=False), frame.timestamp_s)
        finally:
            writer.close()
        with_face = sum(n > 0 for n in per_frame)
        report = {"input": str(source), "output": str(out), "frames": len(per_frame),
                  "frames_with_face": with_face, "max_faces": max(per_frame, default=0)}
    if args.json:
        print(json.dumps(report))
    elif is_image:
        print(f"{len(report['faces'])} face(s); annotated image: {out}")
    else:
        print(f"faces in {report['frames_with_face']}/{report['frames']} frames; annotated video: {out}")
    return 0


def register(sub) -> None:
    parser = sub.add_parser("detect", help="detect faces in an image or a video, write an annotated copy")
    parser.add_argument("input", help="image (JPEG, PNG, WebP, BMP) or video (MP4, MOV, WebM, AVI, MJPEG)")
    parser.add_argument("--out", help="annotated output file (default: NAME.faces.jpg / NAME.faces.mp4)")
    parser.add_argument("--max-side", type=int, help="detector working size (default: the policy's document size for images, 640 for video)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=_run)
