// Command lz is LianZheng's headless command line: every action of the app is scriptable
// here. It builds with CGO_ENABLED=0.
//
//	lz demo [--out DIR] [--lang zh|en]   run the real-estate scenario on the credential core
//	lz ledger init|start|status|testnet  run the consortium ledger (see docs/consortium.md)
//
// The ledger, issuer, wallet and verifier commands arrive with their packages.
package main

import (
	"fmt"
	"os"
)

func usage() {
	fmt.Fprintln(os.Stderr, `用法 / usage: lz <command> [flags]

  demo     运行不动产登记演示（凭证核心，无界面） / run the real-estate demo headless
  ledger   联盟链节点：init、start、status、testnet init / consortium ledger node (lz ledger help)
  verify   窗口核验：request、check、snapshot、anchor、receipt / window verifier (lz verify help)
  wallet   市民钱包：init、receive、list、show、status、present、history、backup、restore / citizen wallet (lz wallet help)
  issuer   部门签发：init、types、issue、offer、suspend、resume、revoke、batch、list / department issuer (lz issuer help)
  serve    lz serve issuer：OpenID4VCI 签发服务 / the OpenID4VCI issuance service`)
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "demo":
		err = cmdDemo(os.Args[2:])
	case "ledger":
		err = cmdLedger(os.Args[2:])
	case "verify":
		err = cmdVerify(os.Args[2:])
	case "wallet":
		err = cmdWallet(os.Args[2:])
	case "issuer":
		err = cmdIssuer(os.Args[2:])
	case "serve":
		err = cmdServe(os.Args[2:])
	case "-h", "--help", "help":
		usage()
		return
	default:
		fmt.Fprintf(os.Stderr, "lz: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "lz:", err)
		os.Exit(1)
	}
}
