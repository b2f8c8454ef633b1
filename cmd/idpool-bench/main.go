// Command idpool-bench is the load generator of idpool's performance work:
// it measures idpool (and moto, for comparison) through the Cognito
// Identity API on this machine, scenario by scenario, next to the ceilings
// that bound each figure.
//
//	idpool-bench [flags]                   run scenarios against -url, -spawn and/or -moto
//	idpool-bench ceiling-server -listen A  serve the minimal awsJson ceiling handler (a fixed
//	                                       GetId answer; a fixed page of 60 to ListIdentities)
//	idpool-bench sign-rate [-d 2s]         measure the RS512 signing rate of this machine
//	idpool-bench seed -idpool-data-dir D -n N [-pool ID]
//	                                       write N identities straight into idpool's database
//
// Run `idpool-bench -h` (or `idpool-bench <command> -h`) for the flags and
// `idpool-bench -list` for the scenarios.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/idpool/idpool/internal/bench"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// errFailed means the run finished but something in it failed; the report
// says what.
var errFailed = errors.New("the run failed: see the errors above")

func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "ceiling-server":
		err = ceilingServer(ctx, args[1:], stdout, stderr)
	case "sign-rate":
		err = signRate(ctx, args[1:], stdout, stderr)
	case "seed":
		err = seed(ctx, args[1:], stdout, stderr)
	default:
		err = benchmark(ctx, args, stdout, stderr)
	}
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errFailed):
		fmt.Fprintln(stderr, "idpool-bench:", err)
		return 1
	default:
		fmt.Fprintln(stderr, "idpool-bench:", err)
		return 2
	}
}

const usage = `usage: idpool-bench [flags]
       idpool-bench ceiling-server -listen 127.0.0.1:0
       idpool-bench sign-rate [-d 2s] [-json FILE]
       idpool-bench seed -idpool-data-dir DIR -n N [-pool ID] [-batch 10000]

Measures Cognito Identity servers on this machine. At least one target:
-url (a running server), -spawn (starts -idpool itself) or -moto.
Examples:
  idpool-bench -spawn -idpool /tmp/idpool -moto -ceiling -c 32 -d 10s -json out.json
  idpool-bench -url http://127.0.0.1:4591/ -pid $(pgrep -n idpool) -scenario getid-guest -rate 500
  idpool-bench -spawn -idpool /tmp/idpool -scale 1000000 -scenario list-identities,lookup-developer

flags:
`

func benchmark(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("idpool-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	var (
		url        = fs.String("url", "", "a running server to measure (loopback only); several replicas of one database separated by commas, each request going to the next")
		pidList    = fs.String("pid", "", "process id of the -url server: its CPU time and memory are read from /proc; with several -url replicas, their ids separated by commas (CPU times are summed)")
		spawn      = fs.Bool("spawn", false, "start -idpool on a free port with a temporary data directory, measure it, stop it")
		idpoolBin  = fs.String("idpool", "", "the idpool binary -spawn starts (it is not built)")
		idpoolArgs = fs.String("idpool-args", "", "extra flags for idpool serve under -spawn, space-separated")
		strict     = fs.Bool("strict", false, "under -spawn, run idpool with --auth strict and a credentials file holding -access-key/-secret-key")
		scale      = fs.Int("scale", 0, "under -spawn, bulk-seed this many identities into a pool before starting idpool, and run every scenario in that pool")
		moto       = fs.Bool("moto", false, "start moto (python3 -m moto.server) on a free port and measure it too")
		python     = fs.String("python", "python3", "the Python that runs moto")
		scenario   = fs.String("scenario", "all", "scenarios to run, comma-separated, or all")
		list       = fs.Bool("list", false, "list the scenarios and exit")
		conc       = fs.Int("c", 32, "workers (closed model), or the cap on requests in flight (open model)")
		rate       = fs.Float64("rate", 0, "arrival rate in requests/s (open model); 0 is the closed model")
		n          = fs.Int64("n", 0, "requests per scenario (0: bounded by -d only)")
		dur        = fs.Duration("d", 10*time.Second, "measured time per scenario (0: bounded by -n only)")
		warmup     = fs.Duration("warmup", 2*time.Second, "warm-up per scenario, excluded from the figures")
		k          = fs.Int("k", 1000, "identities of each kind a scenario seeds through the API")
		merges     = fs.Int("merges", 10000, "pairs of developer users the merge scenario seeds through the API and merges, each once")
		accessKey  = fs.String("access-key", "AKIDEXAMPLE", "access key id of signed requests")
		secretKey  = fs.String("secret-key", "secret", "secret access key of signed requests")
		signCache  = fs.Bool("sign-cache", false, "reuse a worker's signature of an identical request within the same second (byte-identical to signing afresh)")
		ceiling    = fs.Bool("ceiling", false, "also measure the ceilings, before and after the targets: the minimal awsJson server (a child process) driven with GetId unsigned (awsjson) and signed (awsjson-signed) and with signed ListIdentities pages of 60 (awsjson-signed-page), and the RS512 signing rate")
		signDur    = fs.Duration("sign-d", 2*time.Second, "how long -ceiling measures the signing rate, per configuration")
		pool       = fs.String("pool", "", "run every scenario of the -url target in this existing pool instead of creating one each")
		keep       = fs.Bool("keep", false, "keep the pools the scenarios create")
		jsonOut    = fs.String("json", "", "also write the results, machine-readable, to this file")
		quiet      = fs.Bool("q", false, "no progress lines on stderr")
		cpuProfile = fs.String("cpuprofile", "", "write the load generator's own CPU profile to this file")
		serverCPUs = fs.String("server-cpus", os.Getenv("IDPOOL_BENCH_SERVER_CPUS"), "confine the servers this run starts (-spawn, the ceiling server, moto) to these CPUs, in taskset's form (0-7); confine the generator itself with taskset. Default: $IDPOOL_BENCH_SERVER_CPUS")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	bench.ServerCPUs = *serverCPUs
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s (commands: ceiling-server, sign-rate, seed)", strings.Join(fs.Args(), " "))
	}
	if *list {
		for _, s := range bench.Scenarios() {
			fmt.Fprintf(stdout, "%-17s %s\n%-17s bound: %s", s.Name, s.Doc, "", s.Bound)
			if s.MotoSkip != "" {
				fmt.Fprintf(stdout, "; not on moto: %s", s.MotoSkip)
			}
			fmt.Fprintln(stdout)
		}
		return nil
	}
	scenarios, err := bench.Select(*scenario)
	if err != nil {
		return err
	}
	var problems []error
	if *url == "" && !*spawn && !*moto {
		problems = append(problems, errors.New("no target: give -url, -spawn or -moto"))
	}
	if *url != "" {
		for _, u := range strings.Split(*url, ",") {
			if err := bench.CheckLoopback(u); err != nil {
				problems = append(problems, err)
			}
		}
	}
	var pids []int
	if *pidList != "" {
		for _, f := range strings.Split(*pidList, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n <= 0 {
				problems = append(problems, fmt.Errorf("-pid %q: want process ids separated by commas", *pidList))
				break
			}
			pids = append(pids, n)
		}
	}
	if *spawn && *idpoolBin == "" {
		problems = append(problems, errors.New("-spawn needs -idpool PATH"))
	}
	if !*spawn && (*scale > 0 || *strict || *idpoolArgs != "") {
		problems = append(problems, errors.New("-scale, -strict and -idpool-args go with -spawn"))
	}
	if *pool != "" && *url == "" {
		problems = append(problems, errors.New("-pool names a pool of the -url server; give -url"))
	}
	if *scale > 0 && *pool != "" {
		problems = append(problems, errors.New("-scale makes its own pool; leave -pool out"))
	}
	if *conc < 1 || *rate < 0 || *n < 0 || *dur < 0 || *warmup < 0 || *k < 1 {
		problems = append(problems, errors.New("-c and -k must be positive; -rate, -n, -d and -warmup not negative"))
	}
	if *n == 0 && *dur == 0 {
		problems = append(problems, errors.New("give -n or -d"))
	}
	if err := errors.Join(problems...); err != nil {
		return err
	}
	logw := stderr
	if *quiet {
		logw = io.Discard
	}
	cfg := &bench.Config{
		Load:      bench.Load{Concurrency: *conc, Rate: *rate, N: *n, Duration: *dur},
		Warmup:    *warmup,
		K:         *k,
		Merges:    *merges,
		AccessKey: *accessKey,
		SecretKey: *secretKey,
		SignCache: *signCache,
		Keep:      *keep,
		PoolID:    *pool,
		Log:       logw,
	}
	report := &bench.Report{
		Started:     time.Now().UTC(),
		LoadAverage: [2]float64{bench.LoadAverage()},
		Machine:     bench.ThisMachine(),
		Settings: bench.RunSettings{Concurrency: *conc, Rate: *rate, N: *n, Duration: dur.Seconds(), Warmup: warmup.Seconds(),
			K: *k, Merges: *merges, SignCache: *signCache, PoolID: *pool},
	}

	// The ceilings are measured before the targets and again after them,
	// and bounds take the best of both: a machine shared with other work
	// is seldom busy at both ends of a run.
	ceilings := func(label string) error {
		if !*ceiling || ctx.Err() != nil {
			return nil
		}
		fmt.Fprintf(logw, "measuring the RS512 signing rate (%s per configuration)\n", *signDur)
		sr, err := bench.MeasureSignRate(ctx, *signDur)
		if err != nil {
			return fmt.Errorf("sign rate: %w", err)
		}
		sr.Label = label
		report.SignRates = append(report.SignRates, sr)
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		p, err := bench.StartCeiling(ctx, exe)
		if err != nil {
			return err
		}
		name := "ceiling"
		if label != "start" {
			name += "-" + label
		}
		for _, b := range bench.CeilingBounds() {
			if ctx.Err() != nil {
				break
			}
			report.Ceilings = append(report.Ceilings, bench.RunCeiling(ctx, name, p.URL, p.PID, b, cfg))
		}
		if err := p.Stop(); err != nil {
			fmt.Fprintln(logw, "stopping the ceiling server:", err)
		}
		return nil
	}
	if err := ceilings("start"); err != nil {
		return err
	}

	if *url != "" && ctx.Err() == nil {
		t := bench.Target{Name: "url", URL: *url}
		if len(pids) > 0 {
			t.PID, t.MorePIDs = pids[0], pids[1:]
		}
		tr := &bench.TargetResult{Name: "url", URL: *url, PID: t.PID}
		tr.Scenarios = bench.RunTarget(ctx, t, scenarios, cfg)
		if t.PID != 0 {
			if m, err := bench.ReadMemory(t.PID); err == nil {
				tr.Memory = &m
			}
		}
		report.Targets = append(report.Targets, tr)
	}

	if *spawn && ctx.Err() == nil {
		tr, seedRes := spawnIdpool(ctx, *idpoolBin, *idpoolArgs, *strict, *scale, scenarios, cfg, logw)
		report.Seed = seedRes
		report.Targets = append(report.Targets, tr)
	}

	if *moto && ctx.Err() == nil {
		tr := &bench.TargetResult{Name: "moto"}
		fmt.Fprintln(logw, "starting moto")
		p, err := bench.StartMoto(ctx, *python)
		if err != nil {
			tr.Failure = err.Error()
		} else {
			tr.URL, tr.PID = p.URL, p.PID
			tr.Scenarios = bench.RunTarget(ctx, bench.Target{Name: "moto", URL: p.URL, PID: p.PID, Moto: true}, scenarios, withPool(cfg, ""))
			if m, err := bench.ReadMemory(p.PID); err == nil {
				tr.Memory = &m
			}
			p.Stop()
		}
		report.Targets = append(report.Targets, tr)
	}

	if err := ceilings("end"); err != nil {
		return err
	}
	report.LoadAverage[1] = bench.LoadAverage()
	report.ComputeRatios()
	fmt.Fprintln(stdout)
	report.WriteTable(stdout)
	if *jsonOut != "" {
		if err := report.WriteJSON(*jsonOut); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if report.Failed() {
		return errFailed
	}
	return nil
}

// withPool is cfg with another PoolID.
func withPool(cfg *bench.Config, pool string) *bench.Config {
	c := *cfg
	c.PoolID = pool
	return &c
}

// spawnIdpool starts idpool (after bulk seeding when scale > 0), runs the
// scenarios against it and stops it.
func spawnIdpool(ctx context.Context, bin, extra string, strict bool, scale int, scenarios []*bench.Scenario, cfg *bench.Config, logw io.Writer) (*bench.TargetResult, *bench.SeedResult) {
	tr := &bench.TargetResult{Name: "idpool"}
	cfg = withPool(cfg, "") // -pool names a pool of the -url server
	dir, err := os.MkdirTemp("", "idpool-bench-")
	if err != nil {
		tr.Failure = err.Error()
		return tr, nil
	}
	defer os.RemoveAll(dir)
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		tr.Failure = err.Error()
		return tr, nil
	}
	args := strings.Fields(extra)
	if strict {
		creds := filepath.Join(dir, "credentials")
		line := fmt.Sprintf("%s %s 000000000000\n", cfg.AccessKey, cfg.SecretKey)
		if err := os.WriteFile(creds, []byte(line), 0o600); err != nil {
			tr.Failure = err.Error()
			return tr, nil
		}
		args = append(args, "--auth", "strict", "--credentials-file", creds)
	}
	var seedRes *bench.SeedResult
	if scale > 0 {
		fmt.Fprintf(logw, "bulk seeding %d identities\n", scale)
		seedRes, err = bench.BulkSeed(ctx, bench.SeedOptions{DataDir: data, N: scale, DeveloperPercent: 25, FacebookPercent: 25, Log: logw})
		if err != nil {
			tr.Failure = err.Error()
			return tr, nil
		}
		fmt.Fprintf(logw, "bulk seeded %d identities in %.1fs\n", seedRes.Identities, seedRes.Elapsed.Seconds())
		cfg = withPool(cfg, seedRes.PoolID)
	}
	fmt.Fprintf(logw, "starting %s\n", bin)
	p, err := bench.StartIdpool(ctx, bench.IdpoolOptions{Binary: bin, DataDir: data, Args: args})
	if err != nil {
		tr.Failure = err.Error()
		return tr, seedRes
	}
	tr.URL, tr.PID = p.URL, p.PID
	tr.Scenarios = bench.RunTarget(ctx, bench.Target{Name: "idpool", URL: p.URL, PID: p.PID}, scenarios, cfg)
	if m, err := bench.ReadMemory(p.PID); err == nil {
		tr.Memory = &m
	}
	tr.DataBytesRunning, _ = bench.DirSize(data)
	if err := p.Stop(); err != nil {
		tr.Failure = fmt.Sprintf("stopping idpool: %v\n%s", err, p.Stderr())
	}
	tr.DataBytesStopped, _ = bench.DirSize(data)
	return tr, seedRes
}

func ceilingServer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("idpool-bench ceiling-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "loopback address to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := bench.CheckLoopback("http://" + *listen + "/"); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "listening on http://%s/\n", ln.Addr())
	return bench.ServeCeiling(ctx, ln)
}

func signRate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("idpool-bench sign-rate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	d := fs.Duration("d", 2*time.Second, "measuring time per configuration")
	jsonOut := fs.String("json", "", "also write the result to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	sr, err := bench.MeasureSignRate(ctx, *d)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "RS512 (RSA-2048, PKCS #1 v1.5, SHA-512) signatures, best (median) of 5 rounds: %.0f/s (%.0f) on one core, %.0f/s (%.0f) on %d cores (%.0f%% scaling)\n",
		sr.PerCore, sr.PerCoreMedian, sr.AllCores, sr.AllCoresMedian, sr.Cores, 100*sr.AllCores/(sr.PerCore*float64(sr.Cores)))
	fmt.Fprintf(stdout, "AES-256-GCM seals of a 512-byte session: %.0f/s on %d cores\n", sr.SealAllCores, sr.Cores)
	if *jsonOut != "" {
		return writeJSON(*jsonOut, sr)
	}
	return nil
}

func seed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("idpool-bench seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		dir     = fs.String("idpool-data-dir", "", "idpool's data directory (stop the server first)")
		pool    = fs.String("pool", "", "pool to fill; empty creates one configured like the scenarios' pools and prints its id")
		account = fs.String("account", "000000000000", "owner account of a created pool (the account of the bench's access key)")
		n       = fs.Int("n", 1_000_000, "identities to write")
		batch   = fs.Int("batch", 10_000, "identities per transaction")
		dev     = fs.Int("developer", 25, "percent of identities linked to a developer user")
		fb      = fs.Int("facebook", 25, "percent of identities linked to a Facebook user")
		tag     = fs.String("tag", "", "makes this seeding's user names unique (random if empty)")
		jsonOut = fs.String("json", "", "also write the result to this file")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("seed: -idpool-data-dir is required")
	}
	res, err := bench.BulkSeed(ctx, bench.SeedOptions{DataDir: *dir, PoolID: *pool, Account: *account, N: *n, Batch: *batch,
		DeveloperPercent: *dev, FacebookPercent: *fb, Tag: *tag, Log: stderr})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "pool %s: wrote %d identities (%d guests, %d developer users bulk-%s-dev-<i>, %d Facebook users bulk-%s-fb-<i>) in %.1fs, %.0f/s; data dir now %.1f MiB\n",
		res.PoolID, res.Identities, res.Guests, res.Developers, res.Tag, res.Facebook, res.Tag, res.Elapsed.Seconds(), res.Rate(), float64(res.DBBytes)/(1<<20))
	if *jsonOut != "" {
		return writeJSON(*jsonOut, res)
	}
	return nil
}
