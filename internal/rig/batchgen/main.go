// Command batchgen writes a synthetic batch CSV for scale runs (scripts/batch-scale.sh):
// household registers (户口簿) of invented people — names 测试用户 + a number, ID numbers
// TEST + digits, addresses on 示例市测试路 — each with a fresh holder did:key, so that nothing
// in it looks like real personal data and every row is a distinct credential.
//
//	go run ./internal/rig/batchgen --rows 100000 --out in.csv
package main

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"flag"
	"fmt"
	"os"

	"lianzheng/did"
)

func main() {
	rows := flag.Int("rows", 100000, "data rows")
	out := flag.String("out", "", "CSV file to write (required)")
	flag.Parse()
	if *out == "" || *rows <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := write(*out, *rows); err != nil {
		fmt.Fprintln(os.Stderr, "batchgen:", err)
		os.Exit(1)
	}
}

func write(path string, n int) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "name,id_number,birth_date,relation_to_head,household_number,address,marital_status,holder")
	status := []string{"未婚", "已婚", ""} // the optional claim left empty on a third of the rows
	for i := range n {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "测试用户%07d,TEST%014d,19%02d-%02d-%02d,户主,TEST-H-%07d,示例市测试路 %d 号,%s,%s\n",
			i, i, 40+i%60, 1+i%12, 1+i%28, i/3, 1+i%999, status[i%3], did.KeyFromEd25519(pub))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
