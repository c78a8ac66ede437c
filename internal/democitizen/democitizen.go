// Package democitizen is the one invented citizen of the demo and the tests: 测试用户甲, no
// real person (TEST… numbers, 示例/样例 places), with the household register and marriage
// certificate the real-estate service items ask for. `lz demo`, the online-service rig and the
// verifier, wallet, portal and app tests issue these claims; they were six copies that had to
// agree.
//
// Each call returns new maps, so a test that changes its copy (a claim left out, a value
// replaced) changes nobody else's.
package democitizen

// HouseholdRegister returns the citizen's household-register claims.
func HouseholdRegister() map[string]any {
	return map[string]any{
		"name": "测试用户甲", "id_number": "TEST00000000000001", "birth_date": "1990-01-01",
		"relation_to_head": "户主", "household_number": "TEST-H-0001",
		"address": "示例省示例市样例区演示路1号", "marital_status": "已婚",
	}
}

// MarriageCertificate returns the citizen's marriage-certificate claims.
func MarriageCertificate() map[string]any {
	return map[string]any{
		"holder_name": "测试用户甲", "spouse_name": "测试用户乙", "spouse_id_number": "TEST00000000000002",
		"registration_date": "2018-05-20", "certificate_number": "TEST-J-2018-0001", "registry": "示例市民政局婚姻登记处",
	}
}

// Claims returns both, by credential type id.
func Claims() map[string]map[string]any {
	return map[string]map[string]any{
		"household-register":   HouseholdRegister(),
		"marriage-certificate": MarriageCertificate(),
	}
}
