#!/usr/bin/env bash
# The long CPU training run of the `cpu_patched` networks, resumable on any machine.
#
#   training/run.sh start [CORPUS]   # resume both stages in the background (nice'd, a core each; a stage
#                                    # whose schedule is done stays stopped and the other gets both cores)
#   training/run.sh status           # last log line of each stage
#   training/run.sh stop             # save cleanly, merge both stages (fp16) into training/cpu_patched
#   training/run.sh calibrate [CORPUS]  # find the merged checkpoint's per-genre sampling factors (about
#                                       # 15 min on 2 cores; lodge/train/calibrate.py)
#
# Work happens in runs/long/{global,local} (ignored by git; full optimiser state). `stop` writes the
# EMA weights of both stages and their loss histories to training/cpu_patched (about 16 MB), which is
# what the next machine resumes from when runs/long does not exist.
set -euo pipefail
cd "$(dirname "$0")/.."
COMMITTED=training/cpu_patched
WORK=${LODGE_TRAIN_WORK:-runs/long}  # the full training state (ignored by git)
STEPS=${LODGE_TRAIN_STEPS:-200000}  # the cosine schedule's length: the run is meant to be resumed many times
GLOBAL_STEPS=${LODGE_GLOBAL_STEPS:-240000}  # ... per stage: the global one extended in session 25, with window offsets (training/README.md)
LOCAL_STEPS=${LODGE_LOCAL_STEPS:-$STEPS}
WINDOW_OFFSETS=${LODGE_WINDOW_OFFSETS:-1}  # 1: the global stage's short dances start whole segments late (from session 25; training/README.md)
X0_VEL=${LODGE_X0_VEL_WEIGHT:-4.0}  # the normalised-space velocity term (training/README.md says why)
ROOT_WEIGHT=${LODGE_ROOT_WEIGHT:-10}  # the horizontal root error counts 10x in the x0 terms (training/README.md)
ROOT_RANGE=${LODGE_ROOT_RANGE:-1.0}  # the local network denoises the horizontal root within +-1 m (from session 20; training/README.md)
LOCAL_ROOT_WEIGHT=${LODGE_LOCAL_ROOT_WEIGHT:-0.4}  # ... so its error, 5.3x larger there, counts 0.4x: as much per metre as the 10x did before
GENRE_DROP=${LODGE_GENRE_DROP:-0.2}  # share of samples trained with the null genre, for genre guidance (training/README.md)
# Both stages get --overlap-unpatch: each network cross-fades its tokens (training/README.md).
PRIM_GAIN=${LODGE_PRIM_MOTION_GAIN:-5}  # the global network denoises primitives with their motion amplified 5x (training/README.md)
PRIM_STEP=${LODGE_PRIM_STEP_WEIGHT:-2}  # the global network learns the steps between consecutive primitives (training/README.md)
GENRE_POWER=${LODGE_GENRE_POWER:-0.25}  # the global network's genres nearer equal shares of its training frames (training/README.md)
LOCAL_GENRE_POWER=${LODGE_LOCAL_GENRE_POWER:-0.25}  # ... and the local network's, from session 23 (training/README.md)
SPEED=${LODGE_SPEED_CONDITION:-1}  # both networks are told each example's speed (from session 13; training/README.md)
X0_SPEED=${LODGE_X0_SPEED_WEIGHT:-0.02}  # the local network matches the size of each example's motion (from session 14; training/README.md)
STRETCH=${LODGE_TIME_STRETCH:-1.5}  # half the examples played up to 1.5x faster or slower (local from session 15, global from 16; training/README.md)
MUSIC_JITTER=${LODGE_MUSIC_JITTER:-0.5}  # each example's music shifted, so a network cannot recognise a song by its sound (global from session 19, local from 20; training/README.md)
DISC=${LODGE_DISC_WEIGHT:-0}  # the local discriminator: off on this run, no setting has helped yet (training/README.md)
GLOBAL_GUIDANCE=${LODGE_GLOBAL_GUIDANCE:-4}  # the merged checkpoint's guidance weight for the primitives (training/README.md)
SPEED_GUIDANCE=${LODGE_SPEED_GUIDANCE:-4}  # the merged checkpoint's guidance weight on the speed (training/README.md: 4 passed the most on both sets at the session-13 stop)
POSE_GUIDANCE=${LODGE_GLOBAL_POSE_GUIDANCE:-2}  # ... and on where each primitive stands (training/README.md: 1 is nearer real speed, 2 keeps BAS)
PY=${PYTHON:-python3}

# The step a stage's checkpoint in DIR records (0 without one).
recorded_step() {  # STAGE DIR
  "$PY" -c 'import json, sys
try:
    print(json.load(open(sys.argv[2] + "/config.json"))["training_data"]["runs"][sys.argv[1]]["steps"])
except (OSError, KeyError, TypeError, ValueError):
    print(0)' "$1" "$2"
}

start() {
  local corpus=${1:-corpus}
  [ -f "$corpus/split.json" ] || { echo "no corpus at $corpus: build it with python -m lodge.data.build_corpus" >&2; exit 2; }
  mkdir -p "$WORK"
  local stage todo=()
  for stage in global local; do
    if [ ! -d "$WORK/$stage" ] && [ -f "$COMMITTED/config.json" ]; then
      mkdir -p "$WORK/$stage"
      cp "$COMMITTED"/config.json "$COMMITTED"/*.safetensors "$WORK/$stage/"
      cp "$COMMITTED"/train_history_*.json "$WORK/$stage/" 2>/dev/null || true
    fi
    local steps=$LOCAL_STEPS; [ "$stage" = global ] && steps=$GLOBAL_STEPS
    if [ "$(recorded_step "$stage" "$WORK/$stage")" -ge "$steps" ]; then
      echo "$stage: its $steps-step schedule is done (LODGE_${stage^^}_STEPS extends it); not started"; continue
    fi
    todo+=("$stage")
  done
  # One core each; a stage alone gets both (2 threads: one process per core is what run.sh assumes).
  local threads=$(( ${#todo[@]} == 1 ? 2 : 1 ))
  for stage in "${todo[@]}"; do
    if [ -f "$WORK/$stage.pid" ] && kill -0 "$(cat "$WORK/$stage.pid")" 2>/dev/null; then
      echo "$stage already running (pid $(cat "$WORK/$stage.pid"))"; continue
    fi
    local batch=64 extra=() root_weight=$ROOT_WEIGHT steps=$LOCAL_STEPS
    if [ "$stage" = global ]; then
      steps=$GLOBAL_STEPS
      extra=(--prim-motion-gain "$PRIM_GAIN" --prim-step-weight "$PRIM_STEP" --genre-power "$GENRE_POWER")
      if [ "$WINDOW_OFFSETS" = 1 ]; then extra+=(--window-offsets); fi
    else extra=(--disc-weight "$DISC" --x0-speed-weight "$X0_SPEED" --root-range "$ROOT_RANGE" --genre-power "$LOCAL_GENRE_POWER"); root_weight=$LOCAL_ROOT_WEIGHT; fi
    extra+=(--music-jitter "$MUSIC_JITTER")
    if [ "$SPEED" = 1 ]; then extra+=(--speed-condition); fi
    OMP_NUM_THREADS=$threads nohup nice -n 10 "$PY" -m lodge train "$stage" --data "$corpus" --out "$WORK/$stage" \
      --preset cpu_patched --steps "$steps" --batch-size "$batch" --lr 3e-4 --save-every 200 --fk-fraction 0 --x0-vel-weight "$X0_VEL" --root-weight "$root_weight" --genre-drop "$GENRE_DROP" --overlap-unpatch --time-stretch "$STRETCH" "${extra[@]}" \
      >> "$WORK/$stage.log" 2>&1 &
    echo $! > "$WORK/$stage.pid"
    echo "$stage started (pid $!, $threads thread(s), log $WORK/$stage.log)"
  done
}

stop() {
  for stage in global local; do
    if [ -f "$WORK/$stage.pid" ]; then
      local pid; pid=$(cat "$WORK/$stage.pid")
      if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        while kill -0 "$pid" 2>/dev/null; do sleep 1; done  # it saves after the current step
      fi
      rm -f "$WORK/$stage.pid"
    fi
  done
  "$PY" -m lodge merge --global "$WORK/global" --local "$WORK/local" --out "$COMMITTED" --half --global-guidance "$GLOBAL_GUIDANCE" --global-pose-guidance "$POSE_GUIDANCE" --speed-guidance "$SPEED_GUIDANCE"
  cp "$WORK"/global/train_history_global.json "$WORK"/local/train_history_local.json "$COMMITTED/"
  echo "merged into $COMMITTED"
}

calibrate() {
  local corpus=${1:-corpus}
  "$PY" -m lodge calibrate --checkpoint "$COMMITTED" --data "$corpus"
}

status() {
  for stage in global local; do
    echo "$stage: $(tail -n 1 "$WORK/$stage.log" 2>/dev/null || echo 'no log')"
  done
}

case "${1:-}" in
  start) start "${2:-corpus}" ;;
  stop) stop ;;
  status) status ;;
  calibrate) calibrate "${2:-corpus}" ;;
  *) echo "usage: training/run.sh start [CORPUS] | status | stop | calibrate [CORPUS]" >&2; exit 2 ;;
esac
