// Command lz is LianZheng's headless command line: every action of the app is scriptable
// here. It builds with CGO_ENABLED=0.
//
//	lz demo [--out DIR] [--lang zh|en]   run the real-estate scenario on the credential core
//	lz ledger init|start|status|testnet  run the consortium ledger (see docs/consortium.md)
//
// The ledger, issuer, wallet and verifier commands arrive with their packages.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
)

func usage() {
	fmt.Fprintln(os.Stderr, `用法 / usage: lz <command> [flags]

  demo     运行不动产登记演示（凭证核心，无界面） / run the real-estate demo headless
  ledger   联盟链节点：init、start、status、testnet init / consortium ledger node (lz ledger help)
  verify   窗口核验：request、check、snapshot、anchor、receipt / window verifier (lz verify help)
  wallet   市民钱包：init、receive、list、show、status、present、history、backup、restore / citizen wallet (lz wallet help)
  issuer   部门签发：init、types、issue、offer、suspend、resume、revoke、batch、list、propose、approve / department issuer (lz issuer help)
  serve    lz serve issuer：OpenID4VCI 签发服务 / the OpenID4VCI issuance service
           lz serve gateway：公开网关（DID 解析、类型元数据） / the public gateway (DID resolution, type metadata)
           lz serve portal：网上服务平台（OpenID4VP） / the online-service portal (OpenID4VP)
  gateway  lz gateway export DIR：公开网关的静态副本 / a static copy of the public gateway
  federation  lz federation agreement：跨区域互认协议 / a mutual-recognition agreement with another region`)
}

func main() {
	os.Exit(run(os.Args[1:]))
}

// run runs one command line (without the program name) and returns the exit status: 0 on
// success and for help (-h on any command), 1 when the command failed, 2 for no or an unknown
// command.
func run(args []string) int {
	if len(args) < 1 {
		usage()
		return 2
	}
	var err error
	switch args[0] {
	case "demo":
		err = cmdDemo(args[1:])
	case "ledger":
		err = cmdLedger(args[1:])
	case "verify":
		err = cmdVerify(args[1:])
	case "wallet":
		err = cmdWallet(args[1:])
	case "issuer":
		err = cmdIssuer(args[1:])
	case "serve":
		err = cmdServe(args[1:])
	case "gateway":
		err = cmdGateway(args[1:], os.Stdout)
	case "federation":
		err = cmdFederation(args[1:])
	case "-h", "--help", "help":
		usage()
		return 0
	default:
		fmt.Fprintf(os.Stderr, "lz: unknown command %q\n", args[0])
		usage()
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0 // -h on a command: its flag set has printed the usage; asking for help is no failure
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "lz:", err)
		return 1
	}
	return 0
}
