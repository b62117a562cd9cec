#!/usr/bin/perl
# mkmmdb.pl VERSION SPEC OUT: write a small MMDB file for the tests
# (Debian's libmaxmind-db-writer-perl), so that no test needs downloaded
# data.  VERSION: 4 (an IPv4 tree) or 6 (an IPv6 tree, IPv4 under ::/96
# with MaxMind's aliases: ::ffff:0:0/96, 2001::/32, 2002::/16).  SPEC: one
# network a line, "NETWORK CC" (country.iso_code), "NETWORK reg=CC"
# (registered_country only), "NETWORK CC reg=CC" (both); '#' comments.
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my ($version, $spec, $out) = @ARGV;
die "usage: mkmmdb.pl 4|6 SPEC OUT\n"
    unless defined $out && ($version eq '4' || $version eq '6');
my %types = (
	country => 'map', registered_country => 'map',
	iso_code => 'utf8_string', geoname_id => 'uint32',
);
my $tree = MaxMind::DB::Writer::Tree->new(
	ip_version => $version,
	record_size => 24,
	database_type => 'moat-test-Country',
	languages => ['en'],
	description => { en => 'moat test database' },
	map_key_type_callback => sub { $types{ $_[0] } },
	remove_reserved_networks => 0,
	($version eq '6' ? (alias_ipv6_to_ipv4 => 1) : ()),
);
open my $in, '<', $spec or die "$spec: $!\n";
while (my $l = <$in>) {
	$l =~ s/#.*//;
	my ($net, @f) = split ' ', $l;
	next unless defined $net;
	my %rec;
	for my $f (@f) {
		if ($f =~ /^reg=(\w+)$/) {
			$rec{registered_country} = { iso_code => $1 };
		} else {
			$rec{country} = { iso_code => $f };
		}
	}
	$tree->insert_network($net, \%rec);
}
open my $fh, '>:raw', $out or die "$out: $!\n";
$tree->write_tree($fh);
close $fh or die "$out: $!\n";
