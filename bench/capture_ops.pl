#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# For bench/state_remote_bench.sh: turns what a store server logged of one outrigd operation into the
# same operation for the direct client (redis-benchmark arguments, or a pgbench script).
#
#   capture_ops.pl redis BEGIN END < monitor.txt
#       redis-cli MONITOR output; prints, NUL-terminated, the arguments of the one command that another
#       client sent between `ECHO BEGIN` and `ECHO END` (commands that scripts run inside the server,
#       shown as client "lua", are not the client's and are left out).
#   capture_ops.pl pg BEGIN END KEYS SCRIPT DEFS < postgresql.json
#       PostgreSQL jsonlog with log_statement=all; the statements that other sessions ran between
#       `SELECT 'BEGIN'` and `SELECT 'END'` become the pgbench script SCRIPT, their parameters
#       `-Dname=value` options (NUL-terminated) in DEFS. A parameter holding the probe key ("bench-probe")
#       becomes a random one of KEYS keys. Prints the pgbench protocol (-M) the statements came with.
#
# Perl rather than awk or sed: both logs quote and escape their strings, and perl is on every Debian.
use strict;
use warnings;

sub fail { print STDERR "capture_ops: @_\n"; exit 1; }

my $mode = shift // fail("usage: capture_ops.pl redis|pg ...");

if ($mode eq 'redis') {
	my ($begin, $end) = @ARGV;
	my (@found, $inside);
	my %esc = (n => "\n", r => "\r", t => "\t", a => "\a", b => "\b");
	while (my $line = <STDIN>) {
		chomp $line;
		# 1700000000.123456 [0 127.0.0.1:41234] "EVALSHA" "..." ...
		next unless $line =~ /^[0-9.]+ \[\d+ ([^\]]*)\] (.*)$/;
		my ($client, $rest) = ($1, $2);
		my @args;
		while ($rest =~ /"((?:[^"\\]|\\.)*)"/g) {
			my $arg = $1;
			# sdscatrepr's escapes: \" \\ \n \r \t \a \b and \xHH for other bytes.
			$arg =~ s{\\(x([0-9a-fA-F]{2})|.)}{defined $2 ? chr(hex $2) : ($esc{$1} // $1)}ge;
			push @args, $arg;
		}
		next unless @args;
		if (uc $args[0] eq 'ECHO' && @args == 2 && ($args[1] eq $begin || $args[1] eq $end)) {
			last if $args[1] eq $end && $inside;
			$inside = 1 if $args[1] eq $begin;
			next;
		}
		push @found, [@args] if $inside && $client ne 'lua';
	}
	fail("no command between $begin and $end") unless @found;
	# redis-benchmark repeats a single command; an operation of several would not be the same work.
	fail(scalar(@found) . " commands between $begin and $end, redis-benchmark replays one: "
	     . join(' | ', map { join(' ', @$_) } @found)) if @found > 1;
	print map { "$_\0" } @{$found[0]};
	exit 0;
}

if ($mode eq 'pg') {
	my ($begin, $end, $keys, $script, $defs) = @ARGV;
	fail("pg needs BEGIN END KEYS SCRIPT DEFS") unless defined $defs && $keys =~ /^\d+$/;
	my %esc = (n => "\n", r => "\r", t => "\t", b => "\b", f => "\f");
	my $str = sub {
		my ($json, $field) = @_;
		return undef unless $json =~ /"\Q$field\E":"((?:[^"\\]|\\.)*)"/;
		my $s = $1;
		$s =~ s{\\(u([0-9a-fA-F]{4})|.)}{defined $2 ? chr(hex $2) : ($esc{$1} // $1)}ge;
		return $s;
	};
	my (@found, $inside, %marker_pid);
	while (my $line = <STDIN>) {
		my $msg = $str->($line, 'message') // next;
		my ($pid) = $line =~ /"pid":(\d+)/;
		$pid //= -1;
		if ($msg eq "statement: SELECT '$begin'") { $inside = 1; $marker_pid{$pid} = 1; next; }
		if ($msg eq "statement: SELECT '$end'") { last if $inside; next; }
		next unless $inside && !$marker_pid{$pid};
		my ($kind, $sql);
		if ($msg =~ /^statement: (.*)$/s) {
			($kind, $sql) = ('simple', $1);
		} elsif ($msg =~ /^execute ([^:]*): (.*)$/s) {
			my $name = $1;
			$sql = $2;
			$kind = $name =~ /^<unnamed>/ ? 'extended' : 'prepared';
		} else {
			next;
		}
		my @params;
		my $detail = $str->($line, 'detail') // '';
		if ($detail =~ s/^parameters: //) {
			while ($detail =~ /\$(\d+) = (NULL|'((?:[^']|'')*)')/g) {
				my ($n, $v) = ($1, $2 eq 'NULL' ? undef : $3);
				$v =~ s/''/'/g if defined $v;
				$params[$n] = $v;
			}
		}
		fail("an empty statement in the log: $line") unless $sql =~ /\S/;
		push @found, { kind => $kind, sql => $sql, params => \@params };
	}
	fail("no statement between $begin and $end") unless @found;

	# The parametrised statements decide the protocol; transaction control alone says nothing.
	my ($proto) = map { $_->{kind} } grep { @{$_->{params}} } @found;
	$proto //= $found[0]{kind};
	my $quote = sub { my $v = shift; $v =~ s/'/''/g; return "'$v'"; };
	my (@lines, @defs, $random);
	for my $i (0 .. $#found) {
		my $st = $found[$i];
		my $sql = $st->{sql};
		$sql =~ s/\s+$//;
		$sql =~ s/;$//;
		# Descending, so that $1 does not eat the start of $10.
		for my $n (reverse 1 .. $#{$st->{params}}) {
			my $v = $st->{params}[$n];
			my $rep;
			if (!defined $v) {
				$rep = 'NULL';
			} elsif ($v =~ /bench-probe/) {
				# pgbench's variables are numbers or fixed strings; the key prefix joins the random
				# number in SQL, which costs the server one text concatenation.
				(my $prefix = $v) =~ s/bench-probe.*//s;
				$rep = '(' . $quote->($prefix . 'bench-direct-') . ' || :r)';
				$random = 1;
			} elsif ($proto eq 'simple') {
				# -M simple pastes variables in as they are, unquoted.
				$rep = $quote->($v);
			} else {
				my $name = 's' . ($i + 1) . 'p' . $n;
				push @defs, "-D$name=$v";
				$rep = ":$name";
			}
			$sql =~ s/\$$n(?!\d)/$rep/g;
		}
		push @lines, "$sql;";
	}
	unshift @lines, "\\set r random(0, " . ($keys - 1) . ")" if $random;
	open(my $fh, '>', $script) or fail("$script: $!");
	print $fh map { "$_\n" } @lines;
	close($fh) or fail("$script: $!");
	open($fh, '>', $defs) or fail("$defs: $!");
	print $fh map { "$_\0" } @defs;
	close($fh) or fail("$defs: $!");
	print "$proto\n";
	exit 0;
}

fail("unknown mode '$mode' (redis or pg)");
