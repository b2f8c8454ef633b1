package e2e

import (
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/idpool/idpool/internal/server"
)

// scrape reads GET /metrics in the text exposition format and parses it
// with Prometheus' own parser.
func scrape(t testing.TB, env *Env) map[string]*dto.MetricFamily {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, env.URL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := env.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("GET /metrics: Content-Type %q", ct)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return families
}

// series finds the series of a family whose labels are exactly want; an
// empty label value counts as an absent label, as in Prometheus.
func series(families map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	wanted := map[string]string{}
	for k, v := range want {
		if v != "" {
			wanted[k] = v
		}
	}
	for _, m := range families[name].GetMetric() {
		got := map[string]string{}
		for _, lp := range m.GetLabel() {
			if lp.GetValue() != "" {
				got[lp.GetName()] = lp.GetValue()
			}
		}
		if maps.Equal(got, wanted) {
			return m
		}
	}
	return nil
}

// TestMetrics drives operations through the SDKs, a failing one, STS calls
// and a rate-limited refusal, then reads GET /metrics as Prometheus would.
func TestMetrics(t *testing.T) {
	// A rate no test can refill: the second call within 1,000 seconds is
	// refused whatever the machine's speed.
	env := Start(t, Options{RateLimits: map[string]float64{"ListTagsForResource": 0.001}})
	ctx := t.Context()
	w := worldIn(t, env, loginPoolInput("metrics"))
	w.setRoles(t, map[string]string{"authenticated": authRole, "unauthenticated": unauthRole}, nil)

	guest := w.getID(t, nil)
	user := w.getID(t, map[string]string{fb: "metrics-user"})
	openID := aws.ToString(w.openID(t, guest, nil).Token)
	dev := w.developerToken(t, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{Logins: devLogin("metrics-dev")})
	creds := w.credentials(t, user, map[string]string{fb: "metrics-user"}, "").Credentials
	if _, err := assume(t, env, unauthRole, openID); err != nil {
		t.Fatalf("AssumeRoleWithWebIdentity: %v", err)
	}
	caller(t, env, creds)

	missing := "us-east-1:00000000-0000-4000-8000-000000000000"
	_, err := w.admin.DescribeIdentityPool(ctx, &cognitoidentity.DescribeIdentityPoolInput{IdentityPoolId: aws.String(missing)})
	APIError(t, err, "ResourceNotFoundException", notFound(missing))

	arn := aws.String(poolARN(USEast1, AccountA, w.pool))
	if _, err := w.admin.ListTagsForResource(ctx, &cognitoidentity.ListTagsForResourceInput{ResourceArn: arn}); err != nil {
		t.Fatalf("first ListTagsForResource: %v", err)
	}
	_, err = w.admin.ListTagsForResource(ctx, &cognitoidentity.ListTagsForResourceInput{ResourceArn: arn})
	APIError(t, err, "TooManyRequestsException", "Rate exceeded")

	// Requests naming operations nobody knows, one of them by a pool id:
	// they are counted, under "other".
	raw := func(method, target, body, contentType string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, env.URL+"/", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if target != "" {
			req.Header.Set("X-Amz-Target", target)
		}
		req.Header.Set("Content-Type", contentType)
		resp, err := env.HTTPClient().Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, target, err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Fatalf("%s %s: status %d, want an error", method, target, resp.StatusCode)
		}
	}
	raw(http.MethodPost, "AWSCognitoIdentityService.NoSuchOperation", "{}", "application/x-amz-json-1.1")
	raw(http.MethodPut, "AWSCognitoIdentityService."+w.pool, "{}", "application/x-amz-json-1.1")
	raw(http.MethodPost, "", url.Values{"Action": {"Find" + strings.ReplaceAll(user, ":", "")}, "Version": {"2011-06-15"}}.Encode(), "application/x-www-form-urlencoded")

	families := scrape(t, env)

	t.Run("families", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			typ  dto.MetricType
		}{
			{"idpool_requests_total", dto.MetricType_COUNTER},
			{"idpool_request_duration_seconds", dto.MetricType_HISTOGRAM},
			{"idpool_rate_limited_requests_total", dto.MetricType_COUNTER},
			{"idpool_tokens_issued_total", dto.MetricType_COUNTER},
			{"idpool_credentials_issued_total", dto.MetricType_COUNTER},
			{"idpool_store_call_duration_seconds", dto.MetricType_HISTOGRAM},
			{"idpool_sqlite_commit_batch_writes", dto.MetricType_HISTOGRAM},
			{"idpool_sqlite_commit_duration_seconds", dto.MetricType_HISTOGRAM},
			{"idpool_sqlite_checkpoint_duration_seconds", dto.MetricType_HISTOGRAM},
			{"idpool_signing_key_age_seconds", dto.MetricType_GAUGE},
			{"go_goroutines", dto.MetricType_GAUGE},
			{"go_gc_duration_seconds", dto.MetricType_SUMMARY},
			{"process_start_time_seconds", dto.MetricType_GAUGE},
		} {
			f := families[tc.name]
			switch {
			case f == nil:
				t.Errorf("no family %s", tc.name)
			case f.GetType() != tc.typ:
				t.Errorf("%s is a %v, want %v", tc.name, f.GetType(), tc.typ)
			}
		}
		// The PostgreSQL pool's families belong to that backend alone.
		for name := range families {
			if strings.HasPrefix(name, "idpool_postgres_") {
				t.Errorf("family %s exposed over SQLite", name)
			}
		}
	})

	t.Run("counters", func(t *testing.T) {
		req := func(op, outcome, errorType string) map[string]string {
			return map[string]string{"operation": op, "outcome": outcome, "error_type": errorType}
		}
		for _, tc := range []struct {
			family string
			labels map[string]string
			want   float64
		}{
			{"idpool_requests_total", req("CreateIdentityPool", "ok", ""), 1},
			{"idpool_requests_total", req("SetIdentityPoolRoles", "ok", ""), 1},
			{"idpool_requests_total", req("GetId", "ok", ""), 2},
			{"idpool_requests_total", req("GetOpenIdToken", "ok", ""), 1},
			{"idpool_requests_total", req("GetOpenIdTokenForDeveloperIdentity", "ok", ""), 1},
			{"idpool_requests_total", req("GetCredentialsForIdentity", "ok", ""), 1},
			{"idpool_requests_total", req("sts:AssumeRoleWithWebIdentity", "ok", ""), 1},
			{"idpool_requests_total", req("sts:GetCallerIdentity", "ok", ""), 1},
			{"idpool_requests_total", req("DescribeIdentityPool", "client_error", "ResourceNotFoundException"), 1},
			{"idpool_requests_total", req("ListTagsForResource", "ok", ""), 1},
			{"idpool_requests_total", req("ListTagsForResource", "client_error", "TooManyRequestsException"), 1},
			{"idpool_requests_total", req("other", "client_error", "UnknownOperationException"), 2},
			{"idpool_requests_total", req("other", "client_error", "InvalidAction"), 1},
			// Series of every known operation exist from the start.
			{"idpool_requests_total", req("DeleteIdentities", "ok", ""), 0},
			{"idpool_rate_limited_requests_total", map[string]string{"operation": "ListTagsForResource"}, 1},
			{"idpool_rate_limited_requests_total", map[string]string{"operation": "GetId"}, 0},
			{"idpool_tokens_issued_total", map[string]string{"kind": "openid"}, 1},
			{"idpool_tokens_issued_total", map[string]string{"kind": "developer"}, 1},
			{"idpool_credentials_issued_total", map[string]string{"flow": "enhanced"}, 1},
			{"idpool_credentials_issued_total", map[string]string{"flow": "basic"}, 1},
		} {
			m := series(families, tc.family, tc.labels)
			if m == nil {
				t.Errorf("%s%v: no series", tc.family, tc.labels)
				continue
			}
			if got := m.GetCounter().GetValue(); got != tc.want {
				t.Errorf("%s%v = %v, want %v", tc.family, tc.labels, got, tc.want)
			}
		}
	})

	t.Run("histograms", func(t *testing.T) {
		for _, tc := range []struct {
			family   string
			labels   map[string]string
			min, max uint64
		}{
			{"idpool_request_duration_seconds", map[string]string{"operation": "GetId"}, 2, 2},
			{"idpool_request_duration_seconds", map[string]string{"operation": "sts:GetCallerIdentity"}, 1, 1},
			{"idpool_request_duration_seconds", map[string]string{"operation": "other"}, 3, 3},
			{"idpool_store_call_duration_seconds", map[string]string{"method": "CreateIdentity"}, 1, 1 << 20},
			{"idpool_store_call_duration_seconds", map[string]string{"method": "Update"}, 1, 1 << 20},
			{"idpool_store_call_duration_seconds", map[string]string{"method": "GetIdentity"}, 1, 1 << 20},
			{"idpool_store_call_duration_seconds", map[string]string{"method": "ListSigningKeys"}, 1, 1 << 20},
			// Every write acknowledged was counted in a group commit.
			{"idpool_sqlite_commit_batch_writes", nil, 1, 1 << 20},
			// ... and the COMMIT that made it durable was timed.
			{"idpool_sqlite_commit_duration_seconds", nil, 1, 1 << 20},
		} {
			m := series(families, tc.family, tc.labels)
			if m == nil {
				t.Errorf("%s%v: no series", tc.family, tc.labels)
				continue
			}
			if n := m.GetHistogram().GetSampleCount(); n < tc.min || n > tc.max {
				t.Errorf("%s%v counted %d, want %d to %d", tc.family, tc.labels, n, tc.min, tc.max)
			}
		}
		// Guests, a linked user, a pool, its roles: at least 4 writes.
		if m := series(families, "idpool_sqlite_commit_batch_writes", nil); m != nil && m.GetHistogram().GetSampleSum() < 4 {
			t.Errorf("group commits carried %v writes, want at least 4", m.GetHistogram().GetSampleSum())
		}
	})

	t.Run("signing key age", func(t *testing.T) {
		m := series(families, "idpool_signing_key_age_seconds", nil)
		if m == nil {
			t.Fatal("no signing key age")
		}
		if age := m.GetGauge().GetValue(); age < 0 {
			t.Errorf("signing key age %v", age)
		}
	})

	t.Run("bounded labels", func(t *testing.T) {
		known := append(server.Operations(), "sts:AssumeRoleWithWebIdentity", "sts:GetCallerIdentity", "other")
		forbidden := []string{w.pool, guest, user, aws.ToString(dev.IdentityId), missing, AccountA, "metrics-user", "metrics-dev"}
		idLike := regexp.MustCompile(`[a-z]{2}-[a-z]+-\d:[0-9a-f]{8}-|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}`)
		for name, f := range families {
			for _, m := range f.GetMetric() {
				for _, lp := range m.GetLabel() {
					v := lp.GetValue()
					for _, bad := range forbidden {
						if strings.Contains(v, bad) || strings.Contains(v, strings.ReplaceAll(bad, ":", "")) {
							t.Errorf("%s{%s=%q} holds %q", name, lp.GetName(), v, bad)
						}
					}
					if idLike.MatchString(v) {
						t.Errorf("%s{%s=%q} looks like an id", name, lp.GetName(), v)
					}
					if lp.GetName() == "operation" && !slices.Contains(known, v) {
						t.Errorf("%s: operation %q is not a known operation nor other", name, v)
					}
				}
			}
		}
	})
}
