// tiles_check reads a credex node's log as C2SP tlog-tiles over HTTP with golang.org/x/mod's
// sumdb/tlog (an implementation nobody on credex wrote) and checks it:
//
//   - the tree of the node's /checkpoint (size and root hash from the signed note body);
//   - every record: its entry-bundle bytes hash (RFC 6962 record hash) to the level-0 tile
//     hash, and tlog.ProveRecord / tlog.CheckRecord prove it in that tree;
//   - with -old-size/-old-root: tlog.ProveTree / tlog.CheckTree prove the old tree is a
//     prefix of the current one.
//
// Tiles are read through tlog.TileHashReader, which checks every tile it loads against
// the tree hash. tlog names tiles tile/8/L/N (data tiles tile/8/data/N); C2SP drops the
// height: tile/L/N and tile/entries/N. Prints "ok N records" on success; exits 1 with a
// message otherwise. No network beyond the given base URL.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// reader fetches tiles over HTTP, each path once (TileHashReader still checks every tile
// it is handed against the tree hash, on every read).
type reader struct {
	base  string
	cache map[string][]byte
}

func (r reader) Height() int { return 8 }

// c2sp maps tlog's tile path to the C2SP one.
func c2sp(t tlog.Tile) string {
	p := t.Path() // tile/8/L/N[.p/W] or tile/8/data/N[.p/W]
	p = strings.Replace(p, "tile/8/data/", "tile/entries/", 1)
	return strings.Replace(p, "tile/8/", "tile/", 1)
}

func get(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return body, nil
}

func (r reader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, ok := r.cache[c2sp(t)]
		if !ok {
			var err error
			if data, err = get(r.base + "/" + c2sp(t)); err != nil {
				return nil, err
			}
			r.cache[c2sp(t)] = data
		}
		if len(data) != t.W*tlog.HashSize {
			return nil, fmt.Errorf("%s: %d bytes, want %d", c2sp(t), len(data), t.W*tlog.HashSize)
		}
		out[i] = data
	}
	return out, nil
}

func (r reader) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

func checkpoint(base string) (tlog.Tree, error) {
	note, err := get(base + "/checkpoint")
	if err != nil {
		return tlog.Tree{}, err
	}
	sc := bufio.NewScanner(strings.NewReader(string(note)))
	var lines []string
	for sc.Scan() && len(lines) < 3 {
		lines = append(lines, sc.Text())
	}
	if len(lines) < 3 {
		return tlog.Tree{}, fmt.Errorf("checkpoint: too short")
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		return tlog.Tree{}, fmt.Errorf("checkpoint size: %v", err)
	}
	h, err := parseHash(lines[2])
	if err != nil {
		return tlog.Tree{}, err
	}
	return tlog.Tree{N: n, Hash: h}, nil
}

func parseHash(text string) (tlog.Hash, error) {
	var h tlog.Hash
	raw, err := base64.StdEncoding.DecodeString(text)
	if err != nil || len(raw) != tlog.HashSize {
		return h, fmt.Errorf("bad hash %q", text)
	}
	copy(h[:], raw)
	return h, nil
}

// records reads entries [0, n) from the entry bundles.
func records(base string, n int64) ([][]byte, error) {
	var out [][]byte
	for start := int64(0); start < n; start += 256 {
		w := n - start
		if w > 256 {
			w = 256
		}
		t := tlog.Tile{H: 8, L: -1, N: start / 256, W: int(w)}
		data, err := get(base + "/" + c2sp(t))
		if err != nil {
			return nil, err
		}
		for k := int64(0); k < w; k++ {
			if len(data) < 2 {
				return nil, fmt.Errorf("%s: truncated at entry %d", c2sp(t), k)
			}
			size := int(binary.BigEndian.Uint16(data))
			if len(data) < 2+size {
				return nil, fmt.Errorf("%s: truncated entry %d", c2sp(t), k)
			}
			out = append(out, data[2:2+size])
			data = data[2+size:]
		}
		if len(data) != 0 {
			return nil, fmt.Errorf("%s: %d trailing bytes", c2sp(t), len(data))
		}
	}
	return out, nil
}

func run() error {
	base := flag.String("base", "", "the node's base URL")
	oldSize := flag.Int64("old-size", 0, "an earlier checkpoint's tree size")
	oldRoot := flag.String("old-root", "", "that checkpoint's root hash (base64)")
	flag.Parse()
	tree, err := checkpoint(*base)
	if err != nil {
		return err
	}
	hr := tlog.TileHashReader(tree, reader{*base, map[string][]byte{}})
	recs, err := records(*base, tree.N)
	if err != nil {
		return err
	}
	for i, rec := range recs {
		want := tlog.RecordHash(rec)
		got, err := hr.ReadHashes([]int64{tlog.StoredHashIndex(0, int64(i))})
		if err != nil {
			return fmt.Errorf("record %d: %v", i, err)
		}
		if got[0] != want {
			return fmt.Errorf("record %d: level-0 tile hash differs from the entry bundle's record", i)
		}
		proof, err := tlog.ProveRecord(tree.N, int64(i), hr)
		if err != nil {
			return fmt.Errorf("record %d: prove: %v", i, err)
		}
		if err := tlog.CheckRecord(proof, tree.N, tree.Hash, int64(i), want); err != nil {
			return fmt.Errorf("record %d: check: %v", i, err)
		}
	}
	if *oldSize > 0 {
		old, err := parseHash(*oldRoot)
		if err != nil {
			return err
		}
		p, err := tlog.ProveTree(tree.N, *oldSize, hr)
		if err != nil {
			return fmt.Errorf("prove tree: %v", err)
		}
		if err := tlog.CheckTree(p, tree.N, tree.Hash, *oldSize, old); err != nil {
			return fmt.Errorf("check tree %d -> %d: %v", *oldSize, tree.N, err)
		}
		if h, err := tlog.TreeHash(*oldSize, hr); err != nil || h != old {
			return fmt.Errorf("tree hash at %d: %v (%v)", *oldSize, h, err)
		}
	}
	fmt.Printf("ok %d records\n", len(recs))
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tiles_check:", err)
		os.Exit(1)
	}
}
