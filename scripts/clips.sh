#!/usr/bin/env bash
# clips.sh DIR [zh] [en]: synthesises the calling display's announcement clips with espeak-ng into
# DIR/zh/*.wav and DIR/en/*.wav (both languages when none is named), for the citizenhome-halld
# package. The names, voices, speed and texts are hall/voice's (voice.Clips, speech.Synthesize);
# hall/voice's tests check that this list and the Go one agree. Each file is written beside its
# place and renamed over it. clips.sh --list prints "name<TAB>voice<TAB>speed<TAB>text" for every clip.
#
# clips.sh --from FILE DIR synthesises instead the clips FILE lists, one "name<TAB>voice<TAB>text"
# a line ('#' lines are comments): the kiosk's prompts (kiosk/prompt/clips.tsv) for the
# citizenhome-kiosk package, at the same speed; kiosk/prompt's tests check the result.
set -euo pipefail

# espeak-ng 1.51's "cmn" voice reads most tone digits in English; cmn-latn-pinyin reads pinyin
# right (see speech/speech.go).
zh_voice=cmn-latn-pinyin
en_voice=en
speed=175
zh_digits=(ling2 yi1 er4 san1 si4 wu3 liu4 qi1 ba1 jiu3)
en_digits=(zero one two three four five six seven eight nine)
zh_words=("qing qing3" "hao hao4" "dao dao4" "chuangkou chuang1kou3" "banli ban4li3" "shi shi2")
en_words=("number Number" "please-go-to please go to" "window window")

list() { # lang: prints the clips of lang
  local lang=$1 voice digits words i c w
  if [ "$lang" = zh ]; then voice=$zh_voice; digits=("${zh_digits[@]}"); words=("${zh_words[@]}")
  else voice=$en_voice; digits=("${en_digits[@]}"); words=("${en_words[@]}"); fi
  for i in "${!digits[@]}"; do printf '%s/digit-%d\t%s\t%s\t%s\n' "$lang" "$i" "$voice" "$speed" "${digits[$i]}"; done
  for c in {a..z}; do printf '%s/letter-%s\t%s\t%s\t%s\n' "$lang" "$c" "$voice" "$speed" "${c^^}"; done
  for w in "${words[@]}"; do printf '%s/%s\t%s\t%s\t%s\n' "$lang" "${w%% *}" "$voice" "$speed" "${w#* }"; done
}

if [ "${1:-}" = --from ]; then
  [ $# -eq 3 ] || { echo "usage: clips.sh --from FILE DIR" >&2; exit 2; }
  from=$2; dir=$3
  command -v espeak-ng >/dev/null || { echo "clips.sh: espeak-ng is not installed (scripts/deps.sh)" >&2; exit 1; }
  while IFS=$'\t' read -r c_name c_voice c_text; do
    case "$c_name" in ''|'#'*) continue ;; esac
    mkdir -p "$dir/$(dirname "$c_name")"
    out="$dir/$c_name.wav"
    tmp=$(mktemp "$(dirname "$out")/.tmp-XXXXXX")
    if [ -z "$c_text" ] || ! espeak-ng -v "$c_voice" -s "$speed" -w "$tmp" "$c_text" </dev/null ||
      [ "$(stat -c %s "$tmp")" -le 1000 ]; then
      rm -f "$tmp"; echo "clips.sh: espeak-ng failed on $c_name" >&2; exit 1
    fi
    chmod 0644 "$tmp"
    mv -f "$tmp" "$out"
  done <"$from"
  sync "$dir"/*/ 2>/dev/null || sync
  exit 0
fi

if [ "${1:-}" = --list ]; then
  shift
  langs=("$@"); [ ${#langs[@]} -eq 0 ] && langs=(zh en)
  for l in "${langs[@]}"; do list "$l"; done
  exit 0
fi
[ $# -ge 1 ] || { echo "usage: clips.sh DIR [zh] [en] | clips.sh --list [zh] [en]" >&2; exit 2; }
dir=$1; shift
langs=("$@"); [ ${#langs[@]} -eq 0 ] && langs=(zh en)
for l in "${langs[@]}"; do
  case "$l" in zh|en) ;; *) echo "clips.sh: unknown language '$l' (zh or en)" >&2; exit 2 ;; esac
done
command -v espeak-ng >/dev/null || { echo "clips.sh: espeak-ng is not installed (scripts/deps.sh)" >&2; exit 1; }

for l in "${langs[@]}"; do
  mkdir -p "$dir/$l"
  # The loop's variables are its own: read empties them at the end of the list, and the next
  # language's list still needs $speed.
  while IFS=$'\t' read -r c_name c_voice c_speed c_text; do
    out="$dir/$c_name.wav"
    tmp=$(mktemp "$dir/$l/.tmp-XXXXXX")
    # espeak-ng writes a header of 44 bytes and no samples when given nothing to say.
    if [ -z "$c_text" ] || ! espeak-ng -v "$c_voice" -s "$c_speed" -w "$tmp" "$c_text" </dev/null ||
      [ "$(stat -c %s "$tmp")" -le 1000 ]; then
      rm -f "$tmp"; echo "clips.sh: espeak-ng failed on $c_name" >&2; exit 1
    fi
    chmod 0644 "$tmp"
    mv -f "$tmp" "$out"
  done < <(list "$l")
done
sync "$dir"/*/ 2>/dev/null || sync
