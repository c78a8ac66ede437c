package democitizen

import "testing"

// TestCopiesAreIndependent: a test changing its copy changes no other caller's.
func TestCopiesAreIndependent(t *testing.T) {
	a := Claims()
	a["household-register"]["name"] = "changed"
	delete(a["marriage-certificate"], "spouse_name")
	b := Claims()
	if b["household-register"]["name"] != "测试用户甲" || b["marriage-certificate"]["spouse_name"] != "测试用户乙" {
		t.Fatalf("a change to one copy reached another: %v", b)
	}
	if len(b["household-register"]) != 7 || len(b["marriage-certificate"]) != 6 {
		t.Fatalf("claims: %v", b)
	}
}
