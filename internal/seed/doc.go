// Package seed reads seed files, checks them with the API's own rules and
// applies them through the service; it also holds the one implementation
// of a reset (every pool and identity deleted, the seed applied again).
//
// A seed file is YAML (JSON is YAML too) with one key, pools: a list of
// identity pools, each written with the member names of the API:
//
//	pools:
//	  - IdentityPoolId: us-east-1:11111111-2222-4333-8444-555555555555
//	    AccountId: "000000000000"          # optional: the server's default account
//	    IdentityPoolName: seeded           # CreateIdentityPool's members...
//	    AllowUnauthenticatedIdentities: true
//	    DeveloperProviderName: login.seeded
//	    Roles:                             # ...SetIdentityPoolRoles' Roles and RoleMappings...
//	      unauthenticated: arn:aws:iam::000000000000:role/Guest
//	    PrincipalTags:                     # ...SetPrincipalTagAttributeMap's, per provider...
//	      login.seeded: {UseDefaults: true}
//	    DeveloperUsers:                    # ...and developer users with fixed identity ids
//	      - IdentityId: us-east-1:aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee
//	        DeveloperUserIdentifier: alice
//
// Every member is checked as a request carrying it would be: the members
// of CreateIdentityPool against that operation's input in the model,
// Roles and RoleMappings against SetIdentityPoolRoles', each PrincipalTags
// entry against SetPrincipalTagAttributeMap's, IdentityPoolId against
// DescribeIdentityPool's, AccountId against GetId's and each developer
// user against LookupDeveloperIdentity's; then the service's own rules
// (cognito.CheckSeed), and, when applied, those that depend on the store.
// A member the API does not know is an error (a typo would otherwise be
// ignored silently). Errors name the file, the pool (by number and id),
// the member and its line.
//
// Applying is idempotent: the same seed again changes nothing (no version
// moves, no audit line); a changed seed brings its pools to what it says;
// pools it does not list, and identities it does not name, are left alone.
package seed
