# Sourced by bench scripts (from the repository root): a passport broker for the benchmarks.
# `broker_start DIR` makes its keys in DIR (crates/oresund/tests/oracles/passports.py) and serves
# them on 127.0.0.1:7398 for the nodes' JWKS fetches (stopped with the script's jobs);
# `broker_passport DIR SUB AUD` prints a broker-signed RS256 passport for SUB with audience AUD and
# two registered-access visas (ResearcherStatus, AcceptedTermsAndPolicies), valid for a day.
# A node trusts it with:
#   [access] audiences = ["AUD"]   [[access.issuers]] iss = "https://broker.test"
#   jku = ["http://127.0.0.1:7398/broker.jwks.json"]
broker_start() {
  mkdir -p "$1"
  python3 crates/oresund/tests/oracles/passports.py keygen "$1"
  (cd "$1" && exec python3 -m http.server 7398 --bind 127.0.0.1 >/dev/null 2>&1) &
}
broker_passport() {
  local keys=$1 sub=$2 aud=$3 now visas
  now=$(date +%s)
  visa() {
    printf '{"key":"broker","alg":"RS256","header":{"jku":"http://127.0.0.1:7398/broker.jwks.json"},"claims":{"iss":"https://broker.test","sub":"%s","iat":%s,"exp":%s,"ga4gh_visa_v1":{"type":"%s","value":"https://doi.org/10.1038/s41431-018-0219-y","source":"https://ku.dk","by":"so","asserted":%s}}}' "$sub" "$now" $((now + 86400)) "$1" "$now"
  }
  visas=$(echo "[$(visa ResearcherStatus),$(visa AcceptedTermsAndPolicies)]" | python3 crates/oresund/tests/oracles/passports.py mint "$keys")
  printf '[{"key":"broker","alg":"RS256","header":{"jku":"http://127.0.0.1:7398/broker.jwks.json","typ":"vnd.ga4gh.passport+jwt"},"claims":{"iss":"https://broker.test","sub":"%s","aud":"%s","iat":%s,"exp":%s,"ga4gh_passport_v1":%s}}]' "$sub" "$aud" "$now" $((now + 86400)) "$visas" \
    | python3 crates/oresund/tests/oracles/passports.py mint "$keys" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0])'
}
