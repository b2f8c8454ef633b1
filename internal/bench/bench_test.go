package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestHistogramQuantiles(t *testing.T) {
	h := NewHistogram()
	for i := 1; i <= 100_000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.9, 90 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}} {
		got := h.Quantile(c.q)
		if d := float64(got-c.want) / float64(c.want); d > 0.008 || d < -0.008 {
			t.Errorf("q%.2f = %s, want %s within 0.8%%", c.q, got, c.want)
		}
	}
	if h.Max() != 100*time.Millisecond || h.Count() != 100_000 {
		t.Errorf("max %s, count %d", h.Max(), h.Count())
	}
	o := NewHistogram()
	o.Record(time.Hour)
	h.Merge(o)
	if h.Max() != time.Hour || h.Quantile(1) != time.Hour {
		t.Errorf("after merging an hour: max %s, q1 %s", h.Max(), h.Quantile(1))
	}
}

func TestBuckets(t *testing.T) {
	for range 10_000 {
		v := rand.Int64N(maxTracked)
		i := bucketOf(v)
		mid := bucketMid(i)
		if d := float64(mid-v) / float64(max(v, 1)); i >= numBuckets || d > 0.008 || d < -0.008 {
			t.Fatalf("%d: bucket %d of %d, middle %d", v, i, numBuckets, mid)
		}
	}
}

func TestCheckLoopback(t *testing.T) {
	for _, c := range []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:4591/", true},
		{"http://127.9.9.9/", true},
		{"http://[::1]:80/", true},
		{"http://localhost:1/", true},
		{"http://LOCALHOST/", true},
		{"http://10.0.0.1/", false},
		{"http://example.com/", false},
		{"http://localhost.example.com/", false},
		{"http://[::2]/", false},
		{"https://127.0.0.1/", false},
		{"127.0.0.1:80", false},
	} {
		if err := CheckLoopback(c.url); (err == nil) != c.ok {
			t.Errorf("%s: %v", c.url, err)
		}
	}
}

// TestSignCacheIsExact proves the sign cache honest: a reused signature is
// byte-identical to signing afresh in the same second.
func TestSignCacheIsExact(t *testing.T) {
	ctx := context.Background()
	r := NewRequest("DescribeIdentityPool", map[string]any{"IdentityPoolId": "us-east-1:x"}, true, nil)
	now := time.Unix(1_800_000_000, 0)
	newReq := func() *http.Request {
		req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/", nil)
		req.Header = http.Header{"Content-Type": {contentType}, "X-Amz-Target": {targetPfx + r.Op}}
		return req
	}
	fresh := NewClient("http://127.0.0.1:1/", 1, "AKIDEXAMPLE", "secret")
	want := newReq()
	if err := fresh.sign(ctx, want, r, &callState{}, now.Add(500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	cached := NewClient("http://127.0.0.1:1/", 1, "AKIDEXAMPLE", "secret")
	cached.SignCache = true
	var st callState
	if err := cached.sign(ctx, newReq(), r, &st, now); err != nil {
		t.Fatal(err)
	}
	got := newReq()
	if err := cached.sign(ctx, got, r, &st, now.Add(900*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"Authorization", "X-Amz-Date"} {
		if got.Header.Get(h) != want.Header.Get(h) || want.Header.Get(h) == "" {
			t.Errorf("%s: cached %q, fresh %q", h, got.Header.Get(h), want.Header.Get(h))
		}
	}
	next := newReq()
	if err := cached.sign(ctx, next, r, &st, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if next.Header.Get("Authorization") == want.Header.Get("Authorization") {
		t.Error("a signature was reused in the next second")
	}
}

// ceilingCall posts an op to the ceiling handler and returns the answer.
func ceilingCall(t *testing.T, url, op string, in any) []byte {
	t.Helper()
	body, _ := json.Marshal(in)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = http.Header{"Content-Type": {contentType}, "X-Amz-Target": {targetPfx + op}}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != contentType ||
		resp.Header.Get("Content-Length") != strconv.Itoa(len(b)) || resp.Header.Get("X-Amzn-Requestid") == "" {
		t.Fatalf("%s: status %d, headers %v, %d bytes", op, resp.StatusCode, resp.Header, len(b))
	}
	return b
}

// TestCeilingPage checks the ceiling server's ListIdentities answer: the
// shape idpool answers (cognito.ListIdentitiesResponse), a full page laid
// out as a bulk-seeded pool's first page, which the list-identities
// scenario's check accepts; other operations still get the GetId answer.
func TestCeilingPage(t *testing.T) {
	ts := httptest.NewServer(CeilingHandler())
	defer ts.Close()
	b := ceilingCall(t, ts.URL, "ListIdentities", map[string]any{"IdentityPoolId": ceilingPool, "MaxResults": listPage})
	if !bytes.Equal(b, ceilingPage()) {
		t.Error("the page differs from one build to the next")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var page struct {
		IdentityPoolId string
		Identities     []struct {
			IdentityId                     string
			Logins                         []string
			CreationDate, LastModifiedDate json.Number
		}
		NextToken string
	}
	if err := dec.Decode(&page); err != nil {
		t.Fatalf("%v: %.300s", err, b)
	}
	if page.IdentityPoolId != ceilingPool || len(page.Identities) != listPage || page.NextToken == "" {
		t.Fatalf("pool %q, %d identities, NextToken %q", page.IdentityPoolId, len(page.Identities), page.NextToken)
	}
	logins := map[string]int{}
	seen := map[string]bool{}
	for i, id := range page.Identities {
		u, ok := strings.CutPrefix(id.IdentityId, Region+":")
		if _, err := uuid.Parse(u); !ok || err != nil || len(u) != 36 || seen[u] {
			t.Errorf("identity %d: IdentityId %q is not a new <region>:<uuid>", i, id.IdentityId)
		}
		seen[u] = true
		if len(id.Logins) > 1 {
			t.Errorf("identity %d: Logins %q", i, id.Logins)
		}
		logins[strings.Join(id.Logins, "")]++
		for _, d := range []json.Number{id.CreationDate, id.LastModifiedDate} {
			f, err := d.Float64()
			if sec, frac, _ := strings.Cut(d.String(), "."); err != nil || len(sec) != 10 || len(frac) != 3 || f < 1.7e9 {
				t.Errorf("identity %d: date %q is not epoch seconds with milliseconds", i, d)
			}
		}
	}
	if want := map[string]int{DeveloperProvider: 25, FacebookProvider: 25, "": 10}; len(logins) != len(want) ||
		logins[DeveloperProvider] != 25 || logins[FacebookProvider] != 25 || logins[""] != 10 {
		t.Errorf("identities by login: %v, want %v (a bulk-seeded pool's first page)", logins, want)
	}
	if n := len(b); n < 9000 || n > 10000 {
		t.Errorf("the page is %d bytes, not about 9 KB", n)
	}
	check := listIdentitiesRequest(ceilingPool, listPage, false).Check
	if err := check(b); err != nil {
		t.Errorf("the list-identities check refuses the ceiling's page: %v", err)
	}
	if err := listIdentitiesRequest("us-east-1:other", listPage, false).Check(b); err == nil {
		t.Error("the list-identities check accepts a page of another pool")
	}

	g := ceilingCall(t, ts.URL, "GetId", map[string]any{"IdentityPoolId": ceilingPool})
	if want := `{"IdentityId":"` + ceilingIdentity + `"}`; string(g) != want {
		t.Errorf("GetId answered %s, want %s", g, want)
	}
	if err := check(g); err == nil {
		t.Error("the list-identities check accepts the GetId answer")
	}
}

// TestCeilingWorkloads checks what each ceiling sends, and that
// list-identities is bounded by the page ceiling.
func TestCeilingWorkloads(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		b      Bound
		op     string
		signed bool
	}{{BoundAWSJSON, "GetId", false}, {BoundAWSJSONSigned, "GetId", true}, {BoundAWSJSONPage, "ListIdentities", true}} {
		w := CeilingWorkload(c.b)
		if w == nil {
			t.Errorf("%s: no workload", c.b)
			continue
		}
		r := w.Next(rng)
		if r.Op != c.op || r.Signed != c.signed {
			t.Errorf("%s: %s signed %v, want %s signed %v", c.b, r.Op, r.Signed, c.op, c.signed)
		}
		if c.op == "ListIdentities" && !strings.Contains(string(r.Body), `"MaxResults":60`) {
			t.Errorf("%s: body %s", c.b, r.Body)
		}
	}
	for _, b := range []Bound{BoundSigning, BoundMix, ""} {
		if CeilingWorkload(b) != nil {
			t.Errorf("%q has a ceiling workload", b)
		}
	}
	if len(CeilingBounds()) != 3 {
		t.Errorf("ceilings %v", CeilingBounds())
	}
	for _, s := range Scenarios() {
		want := s.Name == "list-identities"
		if (s.Bound == BoundAWSJSONPage) != want {
			t.Errorf("%s is bounded by %s", s.Name, s.Bound)
		}
	}
}

// TestReportPageBound checks that list-identities' ratio is taken against
// the page ceiling, at the best second of its runs, and that the text and
// JSON reports name it.
func TestReportPageBound(t *testing.T) {
	ceiling := func(label string, b Bound, best float64) *ScenarioResult {
		return &ScenarioResult{Target: label, Scenario: string(b), Requests: 1, Throughput: best * 0.9, BestSecond: best}
	}
	rep := &Report{
		Ceilings: []*ScenarioResult{
			ceiling("ceiling", BoundAWSJSON, 40000), ceiling("ceiling", BoundAWSJSONSigned, 30000), ceiling("ceiling", BoundAWSJSONPage, 8000),
			ceiling("ceiling-end", BoundAWSJSON, 39000), ceiling("ceiling-end", BoundAWSJSONSigned, 31000), ceiling("ceiling-end", BoundAWSJSONPage, 10000),
		},
		Targets: []*TargetResult{{Name: "idpool", Scenarios: []*ScenarioResult{
			{Target: "idpool", Scenario: "list-identities", Bound: Find("list-identities").Bound, Requests: 1, Throughput: 2500},
			{Target: "idpool", Scenario: "describe-pool", Bound: Find("describe-pool").Bound, Requests: 1, Throughput: 15500},
		}}},
	}
	// A failed ceiling run does not count, however fast.
	failed := ceiling("ceiling-end", BoundAWSJSONPage, 1e6)
	failed.Errors = 1
	rep.Ceilings = append(rep.Ceilings, failed)
	rep.ComputeRatios()
	list, desc := rep.Targets[0].Scenarios[0], rep.Targets[0].Scenarios[1]
	if list.Bound != BoundAWSJSONPage || list.BoundRate != 10000 || list.Ratio != 0.25 {
		t.Errorf("list-identities: bound %s at %.0f req/s, ratio %v; want %s at 10000, 0.25", list.Bound, list.BoundRate, list.Ratio, BoundAWSJSONPage)
	}
	if desc.BoundRate != 31000 || desc.Ratio != 0.5 {
		t.Errorf("describe-pool: bound %.0f req/s, ratio %v; want 31000, 0.5", desc.BoundRate, desc.Ratio)
	}

	var out bytes.Buffer
	rep.WriteTable(&out)
	var row string
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.Contains(l, "list-identities") {
			row = l
		}
	}
	if f := strings.Fields(row); len(f) < 3 || f[len(f)-3] != string(BoundAWSJSONPage) || f[len(f)-2] != "10000" || f[len(f)-1] != "0.25" {
		t.Errorf("list-identities row %q, want bound %s, 10000, 0.25", row, BoundAWSJSONPage)
	}
	if !strings.Contains(out.String(), "ceiling/awsjson-signed-page 8000") || !strings.Contains(out.String(), "ceiling-end/awsjson-signed-page 10000") {
		t.Errorf("the bounds note lacks the page ceiling:\n%s", &out)
	}

	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Ceilings []struct {
			Scenario string  `json:"scenario"`
			Best     float64 `json:"best_second_req_per_s"`
		} `json:"ceilings"`
		Targets []struct {
			Scenarios []struct {
				Scenario  string  `json:"scenario"`
				Bound     string  `json:"bound"`
				BoundRate float64 `json:"bound_req_per_s"`
				Ratio     float64 `json:"ratio"`
			} `json:"scenarios"`
		} `json:"targets"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if s := doc.Targets[0].Scenarios[0]; s.Bound != "awsjson-signed-page" || s.BoundRate != 10000 || s.Ratio != 0.25 {
		t.Errorf("JSON: %+v", s)
	}
	if c := doc.Ceilings[2]; c.Scenario != "awsjson-signed-page" || c.Best != 8000 {
		t.Errorf("JSON ceiling: %+v", c)
	}
}
