// Command toxiproxy is a fault-injecting TCP proxy for paperfs' sync tests:
// one Toxiproxy (github.com/Shopify/toxiproxy/v2) proxy, run in-process and
// controlled through stdin rather than Toxiproxy's HTTP API.
//
// It is its own module so that Toxiproxy's dependencies (prometheus,
// zerolog, gorilla/mux, ...) stay out of paperfs' go.mod, and sync/synctest,
// which builds and drives it, needs only the standard library.
//
// Usage:
//
//	toxiproxy -listen 127.0.0.1:0 -upstream 127.0.0.1:27017
//
// Once the proxy accepts connections it prints "ready HOST:PORT" to stdout.
// It then reads one command per line from stdin and answers each with one
// line, "ok" or "error MESSAGE":
//
//	toxic JSON    add a toxic, as in Toxiproxy's POST /proxies/{proxy}/toxics,
//	              e.g. toxic {"name":"lag","type":"latency","attributes":{"latency":200}}
//	remove NAME   remove one toxic
//	clear         remove every toxic
//	disable       close the listener and every open connection
//	enable        listen again on the same address
//
// It exits when stdin closes (so it never outlives the test that started
// it) or on SIGINT/SIGTERM.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/Shopify/toxiproxy/v2"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "TCP `address` to listen on; port 0 picks a free port")
	upstream := flag.String("upstream", "", "TCP `address` to forward to (required)")
	debug := flag.Bool("debug", false, "log at debug level instead of warn")
	flag.Parse()

	if err := run(*listen, *upstream, *debug); err != nil {
		fmt.Fprintf(os.Stderr, "toxiproxy: %v\n", err)
		os.Exit(1)
	}
}

func run(listen, upstream string, debug bool) error {
	if upstream == "" {
		return fmt.Errorf("-upstream is required")
	}

	level := zerolog.WarnLevel
	if debug {
		level = zerolog.DebugLevel
	}
	logger := zerolog.New(os.Stderr).Level(level).With().Timestamp().Logger()

	server := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), logger)
	proxy := toxiproxy.NewProxy(server, "paperfs", listen, upstream)
	if err := server.Collection.Add(proxy, true); err != nil {
		return err
	}
	defer proxy.Stop()

	// Start has replaced port 0 with the bound port.
	fmt.Printf("ready %s\n", proxy.Listen)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(os.Stdin)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()

	for {
		select {
		case <-ctx.Done():
			return nil
		case line, ok := <-lines:
			if !ok {
				return nil
			}
			if err := do(ctx, proxy, line); err != nil {
				// One line per answer: the parent reads line by line.
				fmt.Printf("error %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
			} else {
				fmt.Println("ok")
			}
		}
	}
}

func do(ctx context.Context, proxy *toxiproxy.Proxy, line string) error {
	cmd, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
	switch cmd {
	case "toxic":
		_, err := proxy.Toxics.AddToxicJson(strings.NewReader(arg))
		return err
	case "remove":
		return proxy.Toxics.RemoveToxic(ctx, arg)
	case "clear":
		proxy.Toxics.ResetToxics(ctx)
		return nil
	case "disable":
		proxy.Stop()
		return nil
	case "enable":
		if err := proxy.Start(); err != nil && err != toxiproxy.ErrProxyAlreadyStarted {
			return err
		}
		return nil
	default:
		return fmt.Errorf("unknown command %q (want toxic, remove, clear, disable or enable)", cmd)
	}
}
