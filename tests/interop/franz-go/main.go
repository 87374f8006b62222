// Interop program for franz-go (kgo + kadm): idempotent producer by default, the
// default partitioner hashes keys with Java's murmur2, a group of 3 kgo clients
// with cooperative-sticky balancing and manual commits.
// Usage: interop-franz-go COMMAND BOOTSTRAP ...; commands and output format: see
// tests/interop/interop.py. MILLRACE_CLIENT_SECURITY (JSON {protocol, mechanism,
// username, password, ca, cert, key}, unset: plaintext) gives every client a TLS dialer
// and a SASL mechanism; `probe BOOTSTRAP` lists topics once and prints OK or the error
// it saw (tests/security).
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

const client = "franz-go"

var codecs = map[string]kgo.CompressionCodec{
	"none":   kgo.NoCompression(),
	"gzip":   kgo.GzipCompression(),
	"snappy": kgo.SnappyCompression(),
	"lz4":    kgo.Lz4Compression(),
	"zstd":   kgo.ZstdCompression(),
}

// seeds: the seed brokers and the security options of MILLRACE_CLIENT_SECURITY.
func seeds(bootstrap string) []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(strings.Split(bootstrap, ",")...)}
	var s struct{ Protocol, Mechanism, Username, Password, CA, Cert, Key string }
	if env := os.Getenv("MILLRACE_CLIENT_SECURITY"); env != "" {
		if err := json.Unmarshal([]byte(env), &s); err != nil {
			fmt.Fprintln(os.Stderr, "MILLRACE_CLIENT_SECURITY:", err)
			os.Exit(2)
		}
	}
	if s.Protocol == "SSL" || s.Protocol == "SASL_SSL" {
		cfg := &tls.Config{}
		if s.CA != "" {
			pem, err := os.ReadFile(s.CA)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			cfg.RootCAs = x509.NewCertPool()
			cfg.RootCAs.AppendCertsFromPEM(pem)
		}
		if s.Cert != "" {
			pair, err := tls.LoadX509KeyPair(s.Cert, s.Key)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			cfg.Certificates = []tls.Certificate{pair}
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	}
	switch s.Mechanism {
	case "":
	case "PLAIN":
		opts = append(opts, kgo.SASL(plain.Auth{User: s.Username, Pass: s.Password}.AsMechanism()))
	case "SCRAM-SHA-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: s.Username, Pass: s.Password}.AsSha256Mechanism()))
	case "SCRAM-SHA-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: s.Username, Pass: s.Password}.AsSha512Mechanism()))
	default:
		fmt.Fprintln(os.Stderr, "unknown SASL mechanism", s.Mechanism)
		os.Exit(2)
	}
	return opts
}

// probe lists topics once (8 s at most): OK, or REFUSED and the error.
func probe(bootstrap string) error {
	cl, err := kgo.NewClient(append(seeds(bootstrap), kgo.RequestRetries(1))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(cl).ListTopics(ctx); err != nil {
		fmt.Printf("REFUSED %T: %v\n", err, err)
	} else {
		fmt.Println("OK")
	}
	return nil
}

// interopRF: the replication factor of the topic (INTEROP_RF, 1 by default).
func interopRF() int16 {
	rf, err := strconv.Atoi(os.Getenv("INTEROP_RF"))
	if err != nil || rf < 1 {
		return 1
	}
	return int16(rf)
}

func create(bootstrap, topic string, partitions int32) error {
	cl, err := kgo.NewClient(seeds(bootstrap)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, interopRF(), nil, topic)
	if err != nil {
		return err
	}
	return resp.Err
}

func produce(bootstrap, topic string, n int, names []string) error {
	for j, name := range names {
		codec, ok := codecs[name]
		if !ok {
			return fmt.Errorf("unknown codec %q", name)
		}
		cl, err := kgo.NewClient(append(seeds(bootstrap), kgo.ProducerBatchCompression(codec),
			kgo.ProducerLinger(5*time.Millisecond), kgo.RequiredAcks(kgo.AllISRAcks()))...)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
		lo, hi := j*n/len(names), (j+1)*n/len(names)
		var recs []*kgo.Record
		for i := lo; i < hi; i++ {
			recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(fmt.Sprintf("k%d", i)),
				Value: []byte(fmt.Sprintf("%s-%d", client, i))})
		}
		err = cl.ProduceSync(ctx, recs...).FirstErr()
		cancel()
		cl.Close()
		if err != nil {
			return fmt.Errorf("produce (%s): %w", name, err)
		}
	}
	return nil
}

func consume(bootstrap, topic, group string, target int, outFile string) int {
	f, err := os.Create(outFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	out := bufio.NewWriter(f)
	var mu sync.Mutex
	seen := map[[2]int64]bool{}
	assigned := make([]map[int32]bool, 3)
	for i := range assigned {
		assigned[i] = map[int32]bool{}
	}
	formed := func() bool {
		for _, a := range assigned {
			if len(a) == 0 {
				return false
			}
		}
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	stop := make(chan struct{})
	var stopOnce sync.Once
	var wg sync.WaitGroup
	var errs []string
	clients := make([]*kgo.Client, 3)
	for m := 0; m < 3; m++ {
		m := m
		cl, err := kgo.NewClient(append(seeds(bootstrap), kgo.ConsumerGroup(group),
			kgo.ConsumeTopics(topic), kgo.DisableAutoCommit(), kgo.BlockRebalanceOnPoll(),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.SessionTimeout(10*time.Second),
			kgo.FetchMaxBytes(65536), kgo.FetchMaxPartitionBytes(16384),
			kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
				mu.Lock()
				for _, p := range a[topic] {
					assigned[m][p] = true
				}
				mu.Unlock()
			}),
			kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, r map[string][]int32) {
				// Commit what was processed before the partitions move.
				if err := cl.CommitUncommittedOffsets(ctx); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Sprintf("member %d revoke commit: %v", m, err))
					mu.Unlock()
				}
				mu.Lock()
				for _, p := range r[topic] {
					delete(assigned[m], p)
				}
				mu.Unlock()
			}),
			kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, l map[string][]int32) {
				mu.Lock()
				for _, p := range l[topic] {
					delete(assigned[m], p)
				}
				mu.Unlock()
			}))...)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		clients[m] = cl
	}
	// Nothing is polled until all three hold partitions: the first member would
	// otherwise drain the topic alone.
	for {
		mu.Lock()
		ok := formed()
		mu.Unlock()
		if ok || ctx.Err() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for m, cl := range clients {
		m, cl := m, cl
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-ctx.Done():
					return
				default:
				}
				pctx, pcancel := context.WithTimeout(ctx, 200*time.Millisecond)
				fetches := cl.PollFetches(pctx)
				pcancel()
				n := 0
				mu.Lock()
				fetches.EachRecord(func(r *kgo.Record) {
					fmt.Fprintf(out, "m%d %d %d %s %s\n", m, r.Partition, r.Offset, r.Key, r.Value)
					seen[[2]int64{int64(r.Partition), r.Offset}] = true
					n++
				})
				done := len(seen) >= target
				mu.Unlock()
				if n > 0 {
					if err := cl.CommitUncommittedOffsets(ctx); err != nil {
						mu.Lock()
						errs = append(errs, fmt.Sprintf("member %d commit: %v", m, err))
						mu.Unlock()
					}
				}
				cl.AllowRebalance()
				if done {
					stopOnce.Do(func() { close(stop) })
				}
			}
		}()
	}
	wg.Wait()
	for _, cl := range clients {
		cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := cl.CommitUncommittedOffsets(cctx); err != nil {
			errs = append(errs, fmt.Sprintf("final commit: %v", err))
		}
		ccancel()
	}
	for _, cl := range clients {
		cl.Close()
	}
	out.Flush()
	f.Close()
	if len(errs) > 0 {
		fmt.Fprintln(os.Stderr, "tolerated commit errors:", strings.Join(errs, "; "))
	}
	if len(seen) < target {
		fmt.Fprintf(os.Stderr, "only %d of %d records\n", len(seen), target)
		return 3
	}
	return 0
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: interop-franz-go create|produce|consume BOOTSTRAP ...")
		os.Exit(2)
	}
	cmd, bootstrap, args := os.Args[1], os.Args[2], os.Args[3:]
	var err error
	switch cmd {
	case "probe":
		err = probe(bootstrap)
	case "create":
		p, _ := strconv.Atoi(args[1])
		err = create(bootstrap, args[0], int32(p))
	case "produce":
		n, _ := strconv.Atoi(args[1])
		err = produce(bootstrap, args[0], n, strings.Split(args[2], ","))
	case "consume":
		target, _ := strconv.Atoi(args[2])
		os.Exit(consume(bootstrap, args[0], args[1], target, args[3]))
	default:
		err = fmt.Errorf("unknown command %s", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
