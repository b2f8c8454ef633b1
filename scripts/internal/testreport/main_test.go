package main

import (
	"strings"
	"testing"
)

// A go test -json stream with a pass, a failure, two skips (one with a
// reason, one inside a subtest) and a package line.
const stream = `{"Action":"start","Package":"example.com/p"}
{"Action":"run","Package":"example.com/p","Test":"TestOK"}
{"Action":"output","Package":"example.com/p","Test":"TestOK","Output":"=== RUN   TestOK\n"}
{"Action":"output","Package":"example.com/p","Test":"TestOK","Output":"    ok_test.go:3: chatter\n"}
{"Action":"pass","Package":"example.com/p","Test":"TestOK"}
{"Action":"run","Package":"example.com/p","Test":"TestBad"}
{"Action":"output","Package":"example.com/p","Test":"TestBad","Output":"=== RUN   TestBad\n"}
{"Action":"output","Package":"example.com/p","Test":"TestBad","Output":"    bad_test.go:9: got 1, want 2\n"}
{"Action":"output","Package":"example.com/p","Test":"TestBad","Output":"--- FAIL: TestBad (0.00s)\n"}
{"Action":"fail","Package":"example.com/p","Test":"TestBad"}
{"Action":"run","Package":"example.com/p","Test":"TestNeedsDB"}
{"Action":"output","Package":"example.com/p","Test":"TestNeedsDB","Output":"=== RUN   TestNeedsDB\n"}
{"Action":"output","Package":"example.com/p","Test":"TestNeedsDB","Output":"    db_test.go:5: IDPOOL_TEST_POSTGRES is not set\n"}
{"Action":"output","Package":"example.com/p","Test":"TestNeedsDB","Output":"--- SKIP: TestNeedsDB (0.00s)\n"}
{"Action":"skip","Package":"example.com/p","Test":"TestNeedsDB"}
{"Action":"output","Package":"example.com/p","Test":"TestBig/linux","Output":"--- SKIP: TestBig/linux (0.00s)\n"}
{"Action":"skip","Package":"example.com/p","Test":"TestBig/linux"}
{"Action":"output","Package":"example.com/p","Output":"FAIL\texample.com/p\t0.01s\n"}
{"Action":"fail","Package":"example.com/p"}
{"Action":"skip","Package":"example.com/empty"}
`

func run(t *testing.T, allowed map[string]string, strict bool) (string, int) {
	t.Helper()
	var out strings.Builder
	r := newReport()
	if err := r.read(strings.NewReader(stream), &out); err != nil {
		t.Fatal(err)
	}
	bad := r.summary(&out, allowed, strict)
	return out.String(), bad
}

func TestReport(t *testing.T) {
	out, bad := run(t, nil, false)
	for _, want := range []string{
		"    bad_test.go:9: got 1, want 2\n--- FAIL: TestBad",
		"FAIL\texample.com/p\t0.01s\n",
		"2 Go tests skipped",
		"SKIP example.com/p TestNeedsDB [not on the allow-list]: db_test.go:5: IDPOOL_TEST_POSTGRES is not set",
		"SKIP example.com/p TestBig/linux [not on the allow-list]: (no reason given)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	for _, unwanted := range []string{"chatter", "=== RUN", "example.com/empty"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("report shows %q:\n%s", unwanted, out)
		}
	}
	if bad != 0 {
		t.Errorf("not strict: %d bad skips counted", bad)
	}
}

func TestStrictSkips(t *testing.T) {
	allowed := map[string]string{"example.com/p TestNeedsDB": "a database"}
	out, bad := run(t, allowed, true)
	if bad != 1 {
		t.Errorf("%d skips not allowed, want 1 (TestBig/linux):\n%s", bad, out)
	}
	if !strings.Contains(out, "TestNeedsDB [allowed]") || !strings.Contains(out, "TestBig/linux [NOT ALLOWED]") || !strings.Contains(out, "FAILED: 1 skipped tests") {
		t.Errorf("strict report:\n%s", out)
	}
}
