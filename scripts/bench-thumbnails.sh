#!/usr/bin/env bash
# Thumbnail speed: Coffer's code path against easy-thumbnails (Pillow as django-filer uses
# it), Pillow's fastest route (draft() then thumbnail()) and vipsthumbnail, on the same 20
# generated photos of 4000 × 3000 (JPEG quality 90), for 256-px and 1024-px thumbnails
# (fit inside the box, JPEG quality 85). Every contender runs one image at a time, on one
# thread; each image is thumbnailed ROUNDS times and its median kept, photo by photo with
# the contenders taking turns; the table shows the median of those per-image medians and
# each contender's ratio to Coffer.
#
# Needs: python3 with venv, and libvips-tools (installed with apt-get when run as root).
# The Python baselines live in a virtualenv under $BENCH_CACHE (default
# ~/.cache/coffer-bench), next to the generated photos, which are reused between runs.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=$(realpath -m "${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/coffer-bench}")
PHOTOS=${PHOTOS:-20}
ROUNDS=${ROUNDS:-5}
SIZES=${SIZES:-"256 1024"}
ADMIN_ROUNDS=${ADMIN_ROUNDS:-$ROUNDS}   # the six-preset comparison is slow for easy-thumbnails
mkdir -p "$CACHE/photos" "$CACHE/out"

if ! command -v vipsthumbnail >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libvips-tools >/dev/null
    else
        echo "vipsthumbnail is missing: apt-get install libvips-tools" >&2
        exit 1
    fi
fi
if [ ! -x "$CACHE/venv/bin/python" ]; then
    python3 -m venv "$CACHE/venv"
fi
"$CACHE/venv/bin/pip" install -q --disable-pip-version-check Pillow Django easy-thumbnails
PY="$CACHE/venv/bin/python"

echo "==> photos ($PHOTOS × 4000 × 3000, JPEG q90) in $CACHE/photos"
"$PY" - "$CACHE/photos" "$PHOTOS" <<'EOF'
import os, random, sys
from PIL import Image, ImageChops, ImageDraw, ImageFilter

def photo(seed, w=4000, h=3000):
    """Soft colour fields, shapes with hard edges, and sensor-like grain."""
    rnd = random.Random(seed)
    chans = []
    for _ in range(3):
        acc = Image.new("L", (w, h), 128)
        for scale, weight in ((40, 0.5), (12, 0.3), (4, 0.2)):
            small = Image.effect_noise((w // (scale * 10) + 2, h // (scale * 10) + 2), 60 + rnd.random() * 30)
            acc = Image.blend(acc, small.resize((w, h), Image.BICUBIC), weight)
        chans.append(acc)
    img = Image.merge("RGB", chans)
    d = ImageDraw.Draw(img)
    for _ in range(60):
        x, y, r = rnd.randrange(w), rnd.randrange(h), rnd.randrange(20, 400)
        col = tuple(rnd.randrange(256) for _ in range(3))
        if rnd.random() < 0.5:
            d.ellipse((x - r, y - r, x + r, y + r), fill=col)
        else:
            d.line((x, y, rnd.randrange(w), rnd.randrange(h)), fill=col, width=rnd.randrange(2, 30))
    img = img.filter(ImageFilter.GaussianBlur(1.2))
    grain = Image.merge("RGB", [Image.effect_noise((w, h), 10) for _ in range(3)])
    return ImageChops.add(img, grain, scale=1.0, offset=-128)

out, n = sys.argv[1], int(sys.argv[2])
for i in range(1, n + 1):
    path = os.path.join(out, f"photo-{i:02}.jpg")
    if not os.path.exists(path):
        photo(i).save(path, quality=90)
EOF
mapfile -t FILES < <(ls "$CACHE"/photos/photo-*.jpg | head -n "$PHOTOS")
du -ch "${FILES[@]}" | tail -n1 | sed 's/\t.*//' | xargs -I{} echo "    {} in ${#FILES[@]} files"

echo "==> building Coffer's bench (release)"
BIN=$(cargo bench --bench thumbnails --no-run 2>&1 | tee /dev/stderr | sed -n 's/.*Executable .*(\(.*\)).*/\1/p' | tail -n1)
[ -x "$BIN" ] || { echo "could not find the bench executable" >&2; exit 1; }

# The Python contenders: one image at a time, ROUNDS times each, median per image.
cat > "$CACHE/contenders.py" <<'EOF'
import io, statistics, subprocess, sys, time
mode, size, rounds, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
files = sys.argv[5:]
from PIL import Image

ADMIN = [  # django-filer's admin thumbnails: listing icons and the detail preview with its 2x
    {"size": (n, n), "crop": True} for n in (40, 80, 120, 240)
] + [{"size": (n, 0), "upscale": True} for n in (210, 420)]

if mode in ("easy-thumbnails", "easy-thumbnails-admin"):
    from django.conf import settings
    settings.configure()
    import django
    django.setup()
    from easy_thumbnails import engine, source_generators

    def run(path):
        # What easy-thumbnails does for a thumbnail: its source generator (full load, EXIF
        # orientation), its default processors, its JPEG save.
        with open(path, "rb") as f:
            im = source_generators.pil_image(f)
        im = engine.process_image(im, {"size": (size, size), "quality": 85})
        return engine.save_pil_image(im, destination=io.BytesIO(), filename="x.jpg", quality=85)

    if mode == "easy-thumbnails-admin":

        def run(path):
            # Each thumbnail is generated on its own, from its own load of the source.
            for options in ADMIN:
                with open(path, "rb") as f:
                    im = source_generators.pil_image(f)
                im = engine.process_image(im, dict(options, quality=85))
                engine.save_pil_image(im, destination=io.BytesIO(), filename="x.jpg", quality=85)
elif mode == "pillow-draft":
    def run(path):
        im = Image.open(path)
        im.draft("RGB", (size, size))
        im.thumbnail((size, size))
        b = io.BytesIO()
        im.save(b, "JPEG", quality=85)
        return b
elif mode == "vipsthumbnail":
    def run(path):
        subprocess.run(["vipsthumbnail", path, "-s", f"{size}x{size}", "-o", f"{out}/%s-vips.jpg[Q=85]"], check=True)
else:
    sys.exit(f"unknown mode {mode}")

for path in files:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        run(path)
        times.append(time.perf_counter() - t)
    print(f"{path}\t{statistics.median(times) * 1000:.2f}", flush=True)
EOF

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.2f\n", (a[NR/2]+a[NR/2+1])/2}'; }

declare -A RESULT
CONTENDERS="easy-thumbnails pillow-draft vipsthumbnail"
# Photo by photo, every contender in turn, so that a change in the machine's load hits
# all of them alike.
for size in $SIZES; do
    echo "==> ${size} px"
    for who in coffer $CONTENDERS; do : > "$CACHE/out/$who-$size.tsv"; done
    for f in "${FILES[@]}"; do
        "$BIN" --size "$size" --rounds "$ROUNDS" "$f" | grep -v '^peak' >> "$CACHE/out/coffer-$size.tsv"
        for who in $CONTENDERS; do
            "$PY" "$CACHE/contenders.py" "$who" "$size" "$ROUNDS" "$CACHE/out" "$f" >> "$CACHE/out/$who-$size.tsv"
        done
    done
    for who in coffer $CONTENDERS; do
        RESULT[$who,$size]=$(cut -f2 "$CACHE/out/$who-$size.tsv" | median)
    done
    RESULT[coffer-rss,$size]=$("$BIN" --size "$size" --rounds 1 "${FILES[@]}" | sed -n 's/^peak_rss_kib\t//p')
    # vipsthumbnail as meant for batches: one process for all photos.
    t0=$(date +%s%N)
    for _ in $(seq "$ROUNDS"); do
        vipsthumbnail "${FILES[@]}" -s "${size}x${size}" -o "$CACHE/out/%s-batch.jpg[Q=85]"
    done
    t1=$(date +%s%N)
    RESULT[vips-batch,$size]=$(awk -v ns=$((t1 - t0)) -v n=$(( ${#FILES[@]} * ROUNDS )) 'BEGIN {printf "%.2f", ns / 1e6 / n}')
done
if [ "${ADMIN_SET:-1}" = 1 ]; then
    echo "==> the six admin presets of each photo (as after an upload)"
    : > "$CACHE/out/coffer-admin.tsv"
    : > "$CACHE/out/easy-admin.tsv"
    for f in "${FILES[@]}"; do
        "$BIN" --admin --rounds "$ADMIN_ROUNDS" "$f" | grep -v '^peak' >> "$CACHE/out/coffer-admin.tsv"
        "$PY" "$CACHE/contenders.py" easy-thumbnails-admin 0 "$ADMIN_ROUNDS" "$CACHE/out" "$f" >> "$CACHE/out/easy-admin.tsv"
    done
    ADMIN_COFFER=$(cut -f2 "$CACHE/out/coffer-admin.tsv" | median)
    ADMIN_EASY=$(cut -f2 "$CACHE/out/easy-admin.tsv" | median)
fi

echo
echo "Per-image median wall time (ms), ${#FILES[@]} photos of 4000 × 3000, $ROUNDS rounds each;"
echo "ratio = contender / Coffer (higher: Coffer is that many times faster). $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)."
printf '\n| %-40s' "method"
for size in $SIZES; do printf '| %8s | %6s ' "${size} px" "ratio"; done
printf '|\n|%s' "$(printf -- '-%.0s' {1..42})"
for size in $SIZES; do printf '|%s|%s' "$(printf -- '-%.0s' {1..10})" "$(printf -- '-%.0s' {1..8})"; done
printf '|\n'
row() {
    local label=$1 key=$2
    printf '| %-40s' "$label"
    for size in $SIZES; do
        local v=${RESULT[$key,$size]} c=${RESULT[coffer,$size]}
        printf '| %8s | %6s ' "$v" "$(awk -v v="$v" -v c="$c" 'BEGIN {printf "%.2f", v / c}')"
    done
    printf '|\n'
}
row "Coffer (DCT-scaled decode, SIMD resize)" coffer
row "easy-thumbnails (Pillow)" easy-thumbnails
row "Pillow draft() + thumbnail()" pillow-draft
row "vipsthumbnail (one process each)" vipsthumbnail
row "vipsthumbnail (batched, per image)" vips-batch
if [ "${ADMIN_SET:-1}" = 1 ]; then
    echo
    echo "The six admin presets (icon-40/80/120/240 crops, preview-210/420) of one photo:"
    echo "| Coffer (one decode for all six) | ${ADMIN_COFFER} ms | 1.00 |"
    echo "| easy-thumbnails (six thumbnails) | ${ADMIN_EASY} ms | $(awk -v v="$ADMIN_EASY" -v c="$ADMIN_COFFER" 'BEGIN {printf "%.2f", v / c}') |"
fi
echo
for size in $SIZES; do
    echo "Coffer's peak RSS over the ${size}-px run: $(( ${RESULT[coffer-rss,$size]} / 1024 )) MiB (whole process)"
done
