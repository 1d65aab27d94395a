#!/bin/sh
# tools/corpus.sh: rebuild data/corpus/ (the pretraining text of the shipped
# model) from four Debian packages. It needs apt-get and dpkg, and network
# access to a Debian mirror; the result is committed, so `make pretrain`
# does not need this script. Run from the top of the source tree:
#   sh tools/corpus.sh [OUTDIR]        (OUTDIR defaults to data/corpus)
#
# poems-zh.txt  fortunes-zh 2.98: tang300 (唐诗三百首) and song100 (宋词一百首),
#               ANSI colour codes removed; poems separated by a line "%".
# kjv-en.txt    bible-kjv-text 4.38 read through the bible program of
#               bible-kjv 4.38 (its text is compressed for that program):
#               Genesis, Ruth, Esther, Proverbs, Ecclesiastes and Jonah of the
#               King James Version, one verse a line without its reference,
#               chapters separated by a line "%".
# sayings-zh.txt  fortunes-zh 2.98: chinese (sayings, proverbs, classical
#               prose and modern quotations), ANSI colour codes removed;
#               entries separated by a line "%".
# wordnet-en.txt  wordnet-base 3.0: every synset that has example sentences,
#               one a line: its words, its definition and its examples (the
#               everyday English the sentiment lesson needs); 50 lines a
#               document, documents separated by a line "%".
set -eu

out=${1:-data/corpus}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
here=$(pwd)

cd "$work"
apt-get download fortunes-zh bible-kjv bible-kjv-text wordnet-base >/dev/null
for deb in *.deb; do dpkg -x "$deb" root; done
cd "$here"

fortunes=$work/root/usr/share/games/fortunes
# The fortune files colour their titles with ANSI escapes ("ESC[32m"): strip
# them, and any trailing blanks, so the model sees only the poems.
esc=$(printf '\033')
for f in tang300 song100; do
  sed -e "s/${esc}\[[0-9;]*m//g" -e 's/[ 	]*$//' "$fortunes/$f"
done | sed -e '/^$/d' > "$out/poems-zh.txt"
sed -e "s/${esc}\[[0-9;]*m//g" -e 's/[ 	]*$//' "$fortunes/chinese" |
  sed -e '/^$/d' > "$out/sayings-zh.txt"

# -d takes a bare name looked up along the -p path list
bible() { "$work/root/usr/bin/bible" -f -p "$work/root/usr/lib" -d bible.data "$1"; }
for range in gen1:1-50:26 ruth1:1-4:22 esther1:1-10:3 prov1:1-31:31 \
             eccl1:1-12:14 jonah1:1-4:11; do
  bible "$range"
done | awk '
  # each line is "Ge1:1 In the beginning ..."; a new chapter starts a new
  # document
  {
    ref = $1; text = substr($0, length(ref) + 2)
    chapter = ref; sub(/:[0-9]+$/, "", chapter)
    if (NR > 1 && chapter != last) print "%"
    last = chapter
    print text
  }' > "$out/kjv-en.txt"

# A synset line is "offset lexfile pos count word lexid ... | gloss"; the
# words are the fields after the count (a hex number), each followed by its
# lex id; underscores join the parts of a phrase. The gloss is a definition
# then "; "-separated quoted examples.
wordnet=$work/root/usr/share/wordnet
for pos in adj adv verb noun; do
  grep -v '^  ' "$wordnet/data.$pos" | grep '| .*"'
done | awk '
  {
    n = ("0x" $4) + 0; words = ""
    for (i = 0; i < n && i < 3; i++) {
      w = $(5 + 2 * i); gsub(/_/, " ", w); sub(/\([a-z]+\)$/, "", w)
      words = words (i ? ", " : "") w
    }
    gloss = $0; sub(/^[^|]*\| /, "", gloss); sub(/[ ]+$/, "", gloss)
    gsub(/"/, "", gloss); gsub(/  +/, " ", gloss)
    if (NR > 1 && (NR - 1) % 50 == 0) print "%"
    print words ": " gloss
  }' > "$out/wordnet-en.txt"

wc -c "$out/poems-zh.txt" "$out/kjv-en.txt" "$out/sayings-zh.txt" "$out/wordnet-en.txt"
