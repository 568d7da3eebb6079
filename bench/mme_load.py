"""POSTs each query of a JSON array of MME patients to /mme/match, one at a time, and prints
p50/p99/max of the wall time per request (stdlib only).

Usage: python3 bench/mme_load.py HOST:PORT TOKEN QUERIES_JSON LABEL
"""
import http.client
import json
import math
import sys
import time

MME = "application/vnd.ga4gh.matchmaker.v1.0+json"


def main():
    address, token, path, label = sys.argv[1:5]
    queries = json.load(open(path))
    host, port = address.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    headers = {"Content-Type": MME, "Accept": MME, "Authorization": f"Bearer {token}"}
    times, results = [], 0
    for q in queries:
        body = json.dumps({"patient": q})
        start = time.perf_counter()
        conn.request("POST", "/mme/match", body, headers)
        response = conn.getresponse()
        answer = json.loads(response.read())
        times.append((time.perf_counter() - start) * 1000)
        assert response.status == 200, answer
        results += len(answer["results"])
    times.sort()
    at = lambda p: times[max(1, math.ceil(p * len(times))) - 1]
    print(f"{label}: queries={len(times)} results={results} p50_ms={at(0.5):.2f} p99_ms={at(0.99):.2f} max_ms={at(1.0):.2f}")


if __name__ == "__main__":
    main()
