# Sourced by the bench scripts (from the repository root). `cohort DIR` makes the synthetic cohort
# DIR with bench/gen_cohort.py unless DIR/DK.vcf.gz exists; N (individuals per population, default
# 5000), LENGTH (bases simulated on chr22, default 10000000) and SEED (default 11) choose it.
# gen_cohort.py needs msprime (installed here at the pinned version if missing), bgzip, tabix and
# samtools (Debian: apt-get install tabix samtools). `machine` prints the line a benchmark's output
# begins with.
msprime_version=1.4.4
numpy_version=2.4.6
hpo=demo-data/hp.obo.gz
cohort() {
  [ -f "$1/DK.vcf.gz" ] && return
  # The same seed gives the same files only with the same msprime and numpy.
  python3 -c "import msprime, numpy, sys; sys.exit(msprime.__version__ != '$msprime_version' or numpy.__version__ != '$numpy_version')" 2>/dev/null ||
    python3 -m pip install -q "msprime==$msprime_version" "numpy==$numpy_version"
  echo "making cohort $1: gen_cohort.py --n ${N:-5000} --length ${LENGTH:-10000000} --seed ${SEED:-11}" >&2
  python3 bench/gen_cohort.py --out "$1" --n "${N:-5000}" --length "${LENGTH:-10000000}" --seed "${SEED:-11}"
}
# The line a benchmark's output begins with: cores, CPU, time and commit, then the arguments.
machine() {
  echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(date -u +%Y-%m-%dT%H:%MZ), $(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes')${*:+, $*}"
}
